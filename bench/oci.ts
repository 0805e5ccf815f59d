/**
 * Image benchmarks, each against a peer in the same run:
 * - `skopeo copy` of one image (a 512 MiB layer plus a small one) from `airlock serve` vs
 *   from Debian's docker-registry holding the same content: 7 pairs of copies back to back
 *   (which goes first alternates), each after a sync; the ratio is the median of the pairs'
 *   ratios. Single copies vary by a third from one minute to the next here, a pair's two
 *   copies much less, so three runs or a ratio of medians could not tell 1.1 from noise;
 * - one blob GET (the 512 MiB layer) from airlock vs nginx serving the same file.
 * Needs skopeo, docker-registry, nginx and curl. Timings are printed, never asserted.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, freePort, pushImage, startRegistry } from '../test/helpers/oci.js';
import { AIRLOCK, RUNS, cleanupContext, cpuSeconds, median, must, nginx, nginxWorker, peakRssMb, serveAirlock, timed } from './util.js';

const LAYER = 512 << 20;
const COPIES = 7;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-oci-'));
  await chmod(dir, 0o755);
  const cleanups: (() => unknown)[] = [];
  const t = cleanupContext(cleanups);
  try {
    const registry = await startRegistry(t, dir);
    const image = await buildImage(join(dir, 'layout'), '1', ['linux/amd64'], { shared: randomBytes(LAYER) });
    await pushImage(image, '1', `${registry.host}/bench/big:1`);
    await writeFile(
      join(dir, 'airlock.yaml'),
      `name: bench\ntarget: { platforms: [linux/amd64] }\nimages:\n  - ref: ${registry.host}/bench/big:1\n`,
    );
    const home = join(dir, 'home');
    for (const args of [['lock'], ['fetch']]) must(AIRLOCK, ['--home', home, ...args], { cwd: dir });

    const port = await freePort();
    const server = await serveAirlock(home, port, cleanups);

    // Interleaved, each after a sync, into memory (/dev/shm when there is one): the first runs
    // would otherwise pay for the writeback of what lock/fetch and the previous copies left
    // dirty, and the disk's pace would be measured rather than the registry's.
    const outRoot = existsSync('/dev/shm') ? await mkdtemp('/dev/shm/airlock-bench-oci-') : dir;
    cleanups.push(() => rm(outRoot, { recursive: true, force: true }));
    const copy = (source: string, i: number): number => {
      const out = join(outRoot, `out-${i}`);
      must('sync', []);
      const s = timed('skopeo', ['copy', '--src-tls-verify=false', source, `dir:${out}`]);
      must('rm', ['-rf', out]);
      return s;
    };
    const fromAirlock: number[] = [];
    const fromRegistry: number[] = [];
    let copyCpu = 0;
    let registryCpu = 0;
    for (let i = 0; i < COPIES; i++) {
      const airlockFirst = i % 2 === 0;
      for (const which of airlockFirst ? ['airlock', 'registry'] : ['registry', 'airlock']) {
        if (which === 'airlock') {
          const cpu0 = await cpuSeconds(server.pid!);
          fromAirlock.push(copy(`docker://127.0.0.1:${port}/${registry.host.replace(':', '-')}/bench/big:1`, i));
          copyCpu += (await cpuSeconds(server.pid!)) - cpu0;
        } else {
          const cpu0 = await cpuSeconds(registry.process.pid!);
          fromRegistry.push(copy(`docker://${registry.host}/bench/big:1`, i));
          registryCpu += (await cpuSeconds(registry.process.pid!)) - cpu0;
        }
      }
    }
    const viaAirlock = median(fromAirlock);
    const viaRegistry = median(fromRegistry);

    const manifest = JSON.parse(
      await readFile(join(image.layout, 'blobs', 'sha256', image.platforms['linux/amd64']!.manifest.slice(7)), 'utf8'),
    ) as {
      layers: { digest: string; size: number }[];
    };
    const big = manifest.layers.reduce((a, b) => (b.size > a.size ? b : a));
    const root = join(dir, 'www');
    await mkdir(root, { recursive: true });
    await copyFile(join(image.layout, 'blobs', 'sha256', big.digest.slice(7)), join(root, 'layer'));
    const nginxPort = await freePort();
    cleanups.push(await nginx(dir, root, nginxPort));
    const get = (url: string) => median(Array.from({ length: RUNS }, () => timed('curl', ['-sf', '-o', '/dev/null', url])));
    const worker = nginxWorker();
    const [airlockCpu0, nginxCpu0] = [await cpuSeconds(server.pid!), await cpuSeconds(worker)];
    const airlockGet = get(`http://127.0.0.1:${port}/v2/${registry.host.replace(':', '-')}/bench/big/blobs/${big.digest}`);
    const nginxGet = get(`http://127.0.0.1:${nginxPort}/layer`);
    const airlockCpu = ((await cpuSeconds(server.pid!)) - airlockCpu0) / RUNS;
    const nginxCpu = ((await cpuSeconds(worker)) - nginxCpu0) / RUNS;
    const rss = await peakRssMb(server.pid!);

    const mb = (s: number) => (big.size / s / 1e6).toFixed(0);
    process.stdout.write(`airlock oci bench: one image, ${(big.size / 2 ** 20).toFixed(0)} MiB layer (blob GETs: median of ${RUNS})\n\n`);
    const ratios = fromAirlock.map((a, i) => a / fromRegistry[i]!);
    const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
    process.stdout.write(
      `skopeo copy  from airlock ${viaAirlock.toFixed(2)} s   from docker-registry ${viaRegistry.toFixed(2)} s   ratio ${median(ratios).toFixed(2)} ` +
        `(medians of ${COPIES} pairs; pairs' ratios ${range(ratios)}; single copies ${range([...fromAirlock, ...fromRegistry])} s)\n`,
    );
    process.stdout.write(
      `blob GET     airlock ${mb(airlockGet)} MB/s   nginx ${mb(nginxGet)} MB/s   ratio ${(airlockGet / nginxGet).toFixed(2)} (airlock's time / nginx's)\n`,
    );
    process.stdout.write(
      `CPU per skopeo copy  airlock ${(copyCpu / COPIES).toFixed(2)} s   docker-registry ${(registryCpu / COPIES).toFixed(2)} s (user + system, server process)\n`,
    );
    process.stdout.write(
      `CPU per blob GET  airlock ${airlockCpu.toFixed(2)} s   nginx ${nginxCpu.toFixed(2)} s (user + system, server process)\n`,
    );
    process.stdout.write(`airlock serve peak RSS ${rss.toFixed(0)} MB\n`);
  } finally {
    for (const c of cleanups.reverse()) await c();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
