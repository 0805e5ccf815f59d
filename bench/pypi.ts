/**
 * Python benchmarks, each against a peer in the same run:
 * - resolution: `airlock lock` vs `pip install --dry-run --report` for a 100-project graph
 *   that needs backtracking, on the same local index (served by nginx);
 * - serving: requests/s of `/pypi/simple/<name>/` from `airlock serve` vs nginx serving the
 *   identical bytes as a static file (wrk, loopback).
 * Needs python3, nginx and wrk (Debian: nginx-light, wrk). Timings are printed, never asserted.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AIRLOCK, ROOT, RUNS, median, must, nginx, timed, waitFor, wrk } from './util.js';

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-pypi-'));
  // nginx's workers drop root; mkdtemp's 0700 would hide the files from them.
  await chmod(dir, 0o755);
  const stops: (() => Promise<void>)[] = [];
  try {
    const wheels = join(dir, 'wheels');
    must('python3', [join(ROOT, 'bench/pypi-graph.py'), wheels, '100']);
    must('python3', [join(ROOT, 'test/fixtures/make_index.py'), wheels, join(dir, 'upstream')]);
    stops.push(await nginx(dir, join(dir, 'upstream'), 18481));
    const index = 'http://127.0.0.1:18481/simple/';
    const roots = Array.from({ length: 10 }, (_, i) => `bench${String(i).padStart(3, '0')}`);

    const venv = join(dir, 'venv');
    must('python3', ['-m', 'venv', venv]);
    const [python, glibc, machine] = must(`${venv}/bin/python`, [
      '-c',
      'import sys, platform; print("%d.%d.%d" % sys.version_info[:3], platform.libc_ver()[1], platform.machine())',
    ])
      .trim()
      .split(' ');
    const yaml = join(dir, 'airlock.yaml');
    await writeFile(
      yaml,
      `name: bench\ntarget: { platforms: [linux/${machine === 'aarch64' ? 'arm64' : 'amd64'}], python: ["${python}"], libc: glibc-${glibc} }\npypi:\n  index: ${index}\n  requirements: [${roots.join(', ')}]\n`,
    );
    const pipTimes: number[] = [];
    const airlockTimes: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      pipTimes.push(
        timed(`${venv}/bin/pip`, [
          'install',
          '--dry-run',
          '--ignore-installed',
          '--quiet',
          '--disable-pip-version-check',
          '--no-cache-dir',
          '--index-url',
          index,
          '--report',
          join(dir, 'report.json'),
          ...roots,
        ]),
      );
      const home = join(dir, `home-${i}`);
      airlockTimes.push(timed(AIRLOCK, ['--home', home, 'lock', '-f', yaml, '-o', join(dir, 'airlock.lock')]));
    }
    const report = JSON.parse(must('cat', [join(dir, 'report.json')])) as { install: { download_info: { url: string } }[] };
    const lock = JSON.parse(must('cat', [join(dir, 'airlock.lock')])) as { artifacts: { key: string }[] };
    const pipFiles = report.install.map((x) => x.download_info.url.split('/').pop()).sort();
    const ours = lock.artifacts.map((a) => a.key).sort();
    const same = JSON.stringify(pipFiles) === JSON.stringify(ours);

    // Serve what was locked: the connected store can serve as well as any.
    const home = join(dir, 'home-0');
    must(AIRLOCK, ['--home', home, 'fetch', '--lock', join(dir, 'airlock.lock')]);
    const serve = spawn(AIRLOCK, ['--home', home, 'serve', '--listen', '127.0.0.1:18482'], { stdio: 'ignore' });
    stops.push(async () => {
      serve.kill('SIGTERM');
      await once(serve, 'exit');
    });
    await waitFor('http://127.0.0.1:18482/healthz');
    const page = must('curl', ['-fsS', '-H', 'Accept: text/html', 'http://127.0.0.1:18482/pypi/simple/bench000/']);
    const staticRoot = join(dir, 'static');
    await mkdir(join(staticRoot, 'pypi/simple/bench000'), { recursive: true });
    await writeFile(join(staticRoot, 'pypi/simple/bench000/index.html'), page);
    stops.push(await nginx(dir, staticRoot, 18483));
    const airlockRps = wrk('http://127.0.0.1:18482/pypi/simple/bench000/', 'text/html');
    const nginxRps = wrk('http://127.0.0.1:18483/pypi/simple/bench000/');

    process.stdout.write(
      `airlock pypi bench: ${ours.length} files chosen from ${roots.length} roots over a 100-project graph (same as pip: ${same ? 'yes' : 'NO'})\n\n`,
    );
    const pip = median(pipTimes);
    const al = median(airlockTimes);
    process.stdout.write(
      `resolution   airlock lock ${al.toFixed(2)} s   pip --dry-run --report ${pip.toFixed(2)} s   ratio ${(al / pip).toFixed(2)} (median of ${RUNS})\n`,
    );
    process.stdout.write(
      `simple page  airlock ${airlockRps.toFixed(0)} req/s   nginx ${nginxRps.toFixed(0)} req/s   ratio ${(airlockRps / nginxRps).toFixed(2)} (wrk -t2 -c32 -d5s)\n`,
    );
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
