/**
 * Hugging Face benchmark: one 1 GiB model file downloaded through `/hf/{repo}/resolve/…` vs
 * nginx serving the same file, without and with sendfile (throughput, median of 3), and airlock's peak RSS while
 * fetching it from an upstream and while serving it. Needs nginx and curl.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHub } from '../test/helpers/hub.js';
import { freePort } from '../test/helpers/oci.js';
import { run } from '../test/helpers/cli.js';
import { AIRLOCK, RUNS, cleanupContext, cpuSeconds, measure, median, nginx, nginxWorker, peakRssMb, serveAirlock, timed } from './util.js';

const SIZE = 1 << 30;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-hf-'));
  await chmod(dir, 0o755);
  const cleanups: (() => unknown)[] = [];
  const t = cleanupContext(cleanups);
  try {
    const weights = Buffer.alloc(SIZE);
    for (let at = 0; at < SIZE; at += 1 << 24) randomBytes(1 << 24).copy(weights, at);
    const commit = createHash('sha1').update('bench').digest('hex');
    const hub = await startHub(t, [
      {
        type: 'model',
        name: 'bench/big',
        commits: { [commit]: [{ path: 'model.safetensors', body: weights, lfs: true }] },
        refs: { main: commit },
      },
    ]);
    await writeFile(
      join(dir, 'airlock.yaml'),
      `name: hf\ntarget: { platforms: [linux/amd64] }\nhuggingface:\n  endpoint: ${hub.url}\n  repos: [{ repo: bench/big }]\n`,
    );
    const home = join(dir, 'home');
    // The upstream lives in this process, so the CLI must not be run synchronously.
    const locked = await run(AIRLOCK, ['--home', home, 'lock', '-f', join(dir, 'airlock.yaml'), '-o', join(dir, 'airlock.lock')]);
    if (locked.code !== 0) throw new Error(locked.stderr);
    const fetchRss = (await measure(AIRLOCK, ['--home', home, 'fetch', '--lock', join(dir, 'airlock.lock')], true)).peakRssMb!;

    const port = await freePort();
    const server = await serveAirlock(home, port, cleanups);
    const root = join(dir, 'www');
    await mkdir(root);
    await writeFile(join(root, 'model.safetensors'), weights);
    const nginxPort = await freePort();
    cleanups.push(await nginx(dir, root, nginxPort));
    const worker = nginxWorker();
    const sendfilePort = await freePort();
    cleanups.push(await nginx(dir, root, sendfilePort, { sendfile: true }));
    const get = (url: string) => median(Array.from({ length: RUNS }, () => timed('curl', ['-sf', '-o', '/dev/null', url])));
    const cpu = async (pid: number, run: () => number) => {
      const before = await cpuSeconds(pid);
      const seconds = run();
      return { seconds, cpu: ((await cpuSeconds(pid)) - before) / RUNS };
    };
    const airlock = await cpu(server.pid!, () => get(`http://127.0.0.1:${port}/hf/bench/big/resolve/main/model.safetensors`));
    const plain = await cpu(worker, () => get(`http://127.0.0.1:${nginxPort}/model.safetensors`));
    const [viaAirlock, viaNginx] = [airlock.seconds, plain.seconds];
    const viaSendfile = get(`http://127.0.0.1:${sendfilePort}/model.safetensors`);
    const serveRss = await peakRssMb(server.pid!);
    const mbps = (s: number) => (SIZE / s / 1e6).toFixed(0);
    process.stdout.write(`airlock hf bench: one 1 GiB LFS file (median of ${RUNS})\n\n`);
    process.stdout.write(
      `resolve GET  airlock ${mbps(viaAirlock)} MB/s   nginx ${mbps(viaNginx)} MB/s   throughput ratio ${(viaNginx / viaAirlock).toFixed(2)} (airlock/nginx)\n`,
    );
    process.stdout.write(
      `             nginx with sendfile ${mbps(viaSendfile)} MB/s   throughput ratio ${(viaSendfile / viaAirlock).toFixed(2)} (airlock/nginx with sendfile)\n`,
    );
    process.stdout.write(
      `CPU per GET  airlock ${airlock.cpu.toFixed(2)} s   nginx ${plain.cpu.toFixed(2)} s (user + system, server process)\n`,
    );
    process.stdout.write(`peak RSS     airlock fetch ${fetchRss.toFixed(0)} MB   airlock serve ${serveRss.toFixed(0)} MB\n`);
  } finally {
    for (const c of cleanups.reverse()) await c();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
