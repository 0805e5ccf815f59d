import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { test } from 'node:test';
import { HttpClient } from '../../src/core/http.js';
import { silentReporter } from '../../src/core/report.js';
import { Store } from '../../src/core/store.js';
import { resolvePypi } from '../../src/ecosystems/pypi/resolve.js';
import { pypiSectionSchema } from '../../src/ecosystems/pypi/schema.js';
import { run } from '../helpers/cli.js';
import { buildWheels } from '../helpers/pypi-world.js';
import { startStaticIndex } from '../helpers/pypi-index.js';
import { tempDir } from '../helpers/tmp.js';
import { makeWheel } from '../helpers/wheels.js';

const CASES: string[][] = [['app'], ['app[fast]'], ['lib<2'], ['app', 'lib<2'], ['deep'], ['picky', 'shared>=1'], ['pre'], ['pre>=2.0b1']];

/**
 * airlock must choose what pip chooses: for each case, `pip install --dry-run --report` on
 * this machine's interpreter and airlock resolving for the same interpreter as a target, on
 * the same local index, pick the same files.
 */
test('resolution matches pip install --dry-run --report', async (t) => {
  const dir = await tempDir(t);
  const wheels = await buildWheels(dir);
  // Cases that need backtracking more than one level deep.
  makeWheel(wheels, 'deep', '2.0', '', 'mid>=2');
  makeWheel(wheels, 'deep', '1.0', '', 'mid>=1');
  makeWheel(wheels, 'mid', '2.0', '', 'leaf>=5');
  makeWheel(wheels, 'mid', '1.0', '', 'leaf');
  makeWheel(wheels, 'leaf', '1.0');
  makeWheel(wheels, 'picky', '3.0', '', 'shared<1');
  makeWheel(wheels, 'picky', '2.0', '', 'shared>=1,<2');
  makeWheel(wheels, 'shared', '0.9');
  makeWheel(wheels, 'shared', '1.5');
  makeWheel(wheels, 'shared', '2.0');
  makeWheel(wheels, 'pre', '1.0');
  makeWheel(wheels, 'pre', '2.0b1');
  const index = await startStaticIndex(t, wheels, join(dir, 'index'), { format: 'json', metadata: true });

  const venv = join(dir, 'venv');
  assert.equal((await run('python3', ['-m', 'venv', venv])).code, 0);
  const info = await run(`${venv}/bin/python`, [
    '-c',
    'import sys, platform; print("%d.%d.%d" % sys.version_info[:3], platform.libc_ver()[1], platform.machine())',
  ]);
  const [python, glibc, machine] = info.stdout.trim().split(' ') as [string, string, string];
  const platform = machine === 'aarch64' ? 'linux/arm64' : 'linux/amd64';

  const store = await Store.open(join(dir, 'home'));
  const http = new HttpClient({ backoffMs: 1 });
  t.after(async () => {
    await http.close();
    await store.close();
  });
  const ctx = {
    store,
    http,
    reporter: silentReporter,
    manifestDir: dir,
    target: { platforms: [platform], python: [python], libc: `glibc-${glibc}` },
  };

  for (const reqs of CASES) {
    const report = join(dir, `report-${CASES.indexOf(reqs)}.json`);
    await mkdir(dir, { recursive: true });
    const pip = await run(`${venv}/bin/pip`, [
      'install',
      '--dry-run',
      '--ignore-installed',
      '--quiet',
      '--disable-pip-version-check',
      '--no-cache-dir',
      '--index-url',
      index.url,
      '--report',
      report,
      ...reqs,
    ]);
    assert.equal(pip.code, 0, `pip on ${reqs.join(' ')}: ${pip.stderr}`);
    const pipChose = (JSON.parse(await readFile(report, 'utf8')) as { install: { download_info: { url: string } }[] }).install
      .map((i) => decodeURIComponent(i.download_info.url.split('/').pop()!))
      .sort();
    const ours = (await resolvePypi(pypiSectionSchema.parse({ index: index.url, requirements: reqs }), ctx)).map((a) => a.key).sort();
    assert.deepEqual(ours, pipChose, `${reqs.join(' ')}: airlock and pip disagree`);
  }
});

test('a 40-project graph that needs backjumping resolves as pip resolves it', async (t) => {
  const dir = await tempDir(t);
  const wheels = join(dir, 'wheels');
  const made = await run('python3', [fileURLToPath(new URL('../../../bench/pypi-graph.py', import.meta.url)), wheels, '40']);
  assert.equal(made.code, 0, made.stderr);
  const index = await startStaticIndex(t, wheels, join(dir, 'index'), { format: 'html', metadata: true });
  const venv = join(dir, 'venv');
  assert.equal((await run('python3', ['-m', 'venv', venv])).code, 0);
  const info = await run(`${venv}/bin/python`, [
    '-c',
    'import sys, platform; print("%d.%d.%d" % sys.version_info[:3], platform.libc_ver()[1], platform.machine())',
  ]);
  const [python, glibc, machine] = info.stdout.trim().split(' ') as [string, string, string];
  const roots = ['bench000', 'bench001', 'bench002', 'bench003'];
  const report = join(dir, 'report.json');
  const pip = await run(`${venv}/bin/pip`, [
    'install',
    '--dry-run',
    '--ignore-installed',
    '--quiet',
    '--disable-pip-version-check',
    '--no-cache-dir',
    '--index-url',
    index.url,
    '--report',
    report,
    ...roots,
  ]);
  assert.equal(pip.code, 0, pip.stderr);
  const pipChose = (JSON.parse(await readFile(report, 'utf8')) as { install: { download_info: { url: string } }[] }).install
    .map((i) => i.download_info.url.split('/').pop()!)
    .sort();
  const store = await Store.open(join(dir, 'home'));
  const http = new HttpClient({ backoffMs: 1 });
  t.after(async () => {
    await http.close();
    await store.close();
  });
  const ctx = {
    store,
    http,
    reporter: silentReporter,
    manifestDir: dir,
    target: { platforms: [machine === 'aarch64' ? 'linux/arm64' : 'linux/amd64'], python: [python], libc: `glibc-${glibc}` },
  };
  const ours = (await resolvePypi(pypiSectionSchema.parse({ index: index.url, requirements: roots }), ctx)).map((a) => a.key).sort();
  assert.deepEqual(ours, pipChose);
  assert.ok(
    ours.some((f) => f.includes('-2.0-')),
    'some project had to back off from 3.0',
  );
});
