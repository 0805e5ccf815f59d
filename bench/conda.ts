/**
 * Conda benchmark on a synthetic channel (1,000 names × 5 versions in linux-64, each version
 * depending on the previous name, plus noarch), carried by an explicit file:
 * - `linux-64/repodata.json` requests per second from `airlock serve` vs nginx serving the
 *   identical bytes as a static file (wrk, loopback), and the sizes served (plain and .zst);
 * - one rattler solve against the mirror vs against the same channel as static files on
 *   nginx (median of 3, each in a fresh process).
 * Needs nginx, wrk and curl. Timings are printed, never asserted.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../test/helpers/cli.js';
import { freePort } from '../test/helpers/oci.js';
import { AIRLOCK, ROOT, RUNS, median, must, nginx, peakRssMb, serveAirlock, wrk } from './util.js';

const NAMES = 1000;
const VERSIONS = 5;

/** A channel as `conda index` would write it, with small random package files. */
async function writeChannel(root: string, base: string): Promise<string[]> {
  const urls: string[] = [];
  for (const subdir of ['linux-64', 'noarch']) {
    await mkdir(join(root, 'chan', subdir), { recursive: true });
    const conda: Record<string, unknown> = {};
    const count = subdir === 'noarch' ? 50 : NAMES;
    for (let i = 0; i < count; i++) {
      for (let v = 1; v <= VERSIONS; v++) {
        const name = subdir === 'noarch' ? `py${i}` : `pkg${i}`;
        const file = `${name}-${v}.0-h${i}_0.conda`;
        const body = randomBytes(256);
        await writeFile(join(root, 'chan', subdir, file), body);
        const depends =
          subdir === 'noarch'
            ? []
            : [...(i % 10 ? [`pkg${i - 1} >=${Math.max(1, v - 1)}`] : []), ...(i % 50 === 7 ? [`py${i % 50} >=2`] : [])];
        conda[file] = {
          build: `h${i}_0`,
          build_number: 0,
          depends,
          license: 'MIT',
          md5: createHash('md5').update(body).digest('hex'),
          name,
          sha256: createHash('sha256').update(body).digest('hex'),
          size: body.length,
          subdir,
          timestamp: 1700000000000 + i,
          version: `${v}.0`,
          ...(subdir === 'noarch' ? { noarch: 'generic' } : {}),
        };
        urls.push(`${base}/chan/${subdir}/${file}`);
      }
    }
    await writeFile(
      join(root, 'chan', subdir, 'repodata.json'),
      JSON.stringify({ info: { subdir }, packages: {}, 'packages.conda': conda, removed: [], repodata_version: 1 }, null, 1),
    );
  }
  return urls;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-conda-'));
  await chmod(dir, 0o755);
  const cleanups: (() => unknown)[] = [];
  try {
    const upstreamRoot = join(dir, 'upstream');
    const upstreamPort = await freePort();
    const upstream = `http://127.0.0.1:${upstreamPort}`;
    const urls = await writeChannel(upstreamRoot, upstream);
    cleanups.push(await nginx(dir, upstreamRoot, upstreamPort));
    await writeFile(join(dir, 'explicit.txt'), `@EXPLICIT\n${urls.join('\n')}\n`);
    await writeFile(join(dir, 'airlock.yaml'), 'name: conda\ntarget: { platforms: [linux/amd64] }\nconda:\n  explicit: [explicit.txt]\n');
    const home = join(dir, 'home');
    for (const args of [
      ['lock', '-f', join(dir, 'airlock.yaml'), '-o', join(dir, 'airlock.lock')],
      ['fetch', '--lock', join(dir, 'airlock.lock')],
    ]) {
      const r = await run(AIRLOCK, ['--home', home, ...args]);
      if (r.code !== 0) throw new Error(`${args[0]}: ${r.stderr}`);
    }

    const port = await freePort();
    const server = await serveAirlock(home, port, cleanups);
    const mirror = `http://127.0.0.1:${port}/conda/chan`;
    // nginx serves exactly the bytes airlock serves, so the two do the same work per request.
    const peerRoot = join(dir, 'peer');
    await mkdir(join(peerRoot, 'linux-64'), { recursive: true });
    must('curl', ['-sf', '-o', join(peerRoot, 'linux-64', 'repodata.json'), `${mirror}/linux-64/repodata.json`]);
    const peerPort = await freePort();
    cleanups.push(await nginx(dir, peerRoot, peerPort));
    const served = (await readFile(join(peerRoot, 'linux-64', 'repodata.json'))).length;
    const upstreamSize = (await readFile(join(upstreamRoot, 'chan', 'linux-64', 'repodata.json'))).length;
    const zst = Number(must('sh', ['-c', `curl -sf ${mirror}/linux-64/repodata.json.zst | wc -c`]).trim());
    const rpsAirlock = wrk(`${mirror}/linux-64/repodata.json`);
    const rpsNginx = wrk(`http://127.0.0.1:${peerPort}/linux-64/repodata.json`);

    const solve = async (channel: string) => {
      const times: number[] = [];
      let packages = 0;
      for (let i = 0; i < RUNS; i++) {
        const r = await run('node', [join(ROOT, 'bench', 'conda-solve.mjs'), channel, 'linux-64', 'pkg999', 'pkg505 <5']);
        if (r.code !== 0) throw new Error(`solve against ${channel}: ${r.stderr}`);
        const out = JSON.parse(r.stdout) as { seconds: number; packages: number };
        times.push(out.seconds);
        packages = out.packages;
      }
      return { seconds: median(times), packages };
    };
    const viaMirror = await solve(mirror);
    const viaUpstream = await solve(`${upstream}/chan`);
    if (viaMirror.packages !== viaUpstream.packages)
      throw new Error(`the solves differ: ${viaMirror.packages} vs ${viaUpstream.packages} packages`);
    const serveRss = await peakRssMb(server.pid!);

    const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
    process.stdout.write(`airlock conda bench: ${urls.length} packages, linux-64 + noarch (median of ${RUNS})\n\n`);
    process.stdout.write(
      `repodata.json  airlock ${rpsAirlock.toFixed(0)} req/s   nginx ${rpsNginx.toFixed(0)} req/s   ratio ${(rpsAirlock / rpsNginx).toFixed(2)} (wrk -t2 -c32 -d5s, same bytes)\n`,
    );
    process.stdout.write(`size served    airlock ${mb(served)} (.zst ${mb(zst)})   upstream file ${mb(upstreamSize)} (indented)\n`);
    process.stdout.write(
      `rattler solve  against airlock ${viaMirror.seconds.toFixed(2)} s   against static upstream ${viaUpstream.seconds.toFixed(2)} s   ratio ${(viaMirror.seconds / viaUpstream.seconds).toFixed(2)} (${viaMirror.packages} packages)\n`,
    );
    process.stdout.write(`peak RSS       airlock serve ${serveRss.toFixed(0)} MB\n`);
  } finally {
    for (const c of cleanups.reverse()) await c();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
