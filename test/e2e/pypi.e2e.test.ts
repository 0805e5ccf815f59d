import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { airlock, inNamespace, run, serveOffline } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { makeWheel } from '../helpers/wheels.js';
import { EXPECTED, buildWheels } from '../helpers/pypi-world.js';
import { startStaticIndex } from '../helpers/pypi-index.js';

const DEBIAN_WHEELS = '/usr/share/python-wheels';

/**
 * The hosted index with the real clients, all inside a network namespace with no route out:
 * twine uploads (refused without a publisher token, --skip-existing honoured), then pip
 * installs a package and its dependency and downloads one of Debian's real wheels.
 */
test('pypi: twine upload, then pip install and pip download from the served index', async (t) => {
  const dir = await tempDir(t);
  const home = join(dir, 'home');
  const dist = join(dir, 'dist');
  await run('mkdir', ['-p', dist]);
  makeWheel(dist, 'airlock-demo-dep', '1.0');
  makeWheel(dist, 'Airlock_Demo', '2.0', '>=3.8', 'airlock-demo-dep>=1.0');
  // The real wheels Debian ships (python3-pip-whl, python3-setuptools-whl, python3-wheel-whl).
  const debian: string[] = [];
  for (const project of ['pip', 'setuptools', 'wheel']) {
    const found = (await run('sh', ['-c', `ls ${DEBIAN_WHEELS}/${project}-*.whl 2>/dev/null | head -1`])).stdout.trim();
    assert.ok(found, `Debian's ${project} wheel (python3-${project}-whl) is in ${DEBIAN_WHEELS}`);
    await run('cp', [found, dist]);
    debian.push(found.split('/').pop()!);
  }

  const token = async (name: string, role: string) =>
    (await airlock(['--home', home, 'token', 'create', '--name', name, '--role', role])).stdout.trim();
  const publisher = await token('ci', 'publisher');
  const reader = await token('dev', 'reader');
  const server = await serveOffline(t, ['--home', home, 'serve', '--listen', '127.0.0.1:8080']);
  const legacy = 'http://127.0.0.1:8080/pypi/legacy/';
  const sh = (cmd: string) => inNamespace(server, 'sh', ['-c', cmd]);

  const files = `${dist}/*.whl`;
  const upload = (password: string, extra = '') =>
    sh(`twine upload --non-interactive --disable-progress-bar --repository-url ${legacy} -u __token__ -p '${password}' ${extra} ${files}`);
  assert.notEqual((await upload('wrong')).code, 0, 'an unknown token cannot upload');
  assert.notEqual((await upload(reader)).code, 0, 'a reader token cannot upload');
  const ok = await upload(publisher);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const again = await upload(publisher);
  assert.notEqual(again.code, 0, 'a second upload of the same files is refused');
  const skipped = await upload(publisher, '--skip-existing');
  assert.equal(skipped.code, 0, skipped.stdout + skipped.stderr);

  const venv = join(dir, 'venv');
  const made = await run('python3', ['-m', 'venv', venv]);
  assert.equal(made.code, 0, made.stderr);
  const index = '--index-url http://127.0.0.1:8080/pypi/simple/';
  const install = await sh(`${venv}/bin/pip install --no-cache-dir --disable-pip-version-check ${index} airlock-demo`);
  assert.equal(install.code, 0, install.stdout + install.stderr);
  assert.match(install.stdout, /Successfully installed airlock-demo-2\.0 airlock-demo-dep-1\.0/);
  const imported = await run(`${venv}/bin/python`, ['-c', 'import airlock_demo, airlock_demo_dep; print(airlock_demo.__version__)']);
  assert.equal(imported.stdout.trim(), '2.0');

  const pins = debian.map((f) => f.split('-').slice(0, 2).join('=='));
  const dl = await sh(
    `${venv}/bin/pip download --no-cache-dir --disable-pip-version-check --no-deps -d ${dir}/dl ${index} ${pins.join(' ')}`,
  );
  assert.equal(dl.code, 0, dl.stdout + dl.stderr);
  for (const f of debian) assert.ok(existsSync(join(dir, 'dl', f)), `pip downloaded ${f}`);
});

/**
 * The whole Python loop through the CLI: lock for four targets against a static upstream
 * index, fetch, bundle; on the closed side (no network) import and serve; pip installs.
 */
test('pypi: lock for foreign targets → bundle → offline import → pip install from airlock', async (t) => {
  const dir = await tempDir(t);
  const wheels = await buildWheels(dir);
  // A project whose only wheels are platform-specific: pip on this x86_64 machine must get the x86_64 one.
  for (const platform of ['manylinux_2_17_x86_64', 'manylinux_2_17_aarch64', 'win_amd64'])
    makeWheel(wheels, 'native', '1.0', '', `--tag=py3-none-${platform}`);
  const upstream = await startStaticIndex(t, wheels, join(dir, 'index'), { format: 'json', metadata: true });
  await writeFile(
    join(dir, 'airlock.yaml'),
    [
      'name: py',
      'target: { platforms: [linux/amd64, linux/arm64], python: ["3.11", "3.12"], libc: glibc-2.28 }',
      'pypi:',
      `  index: ${upstream.url}`,
      '  requirements: ["app[fast]", "native"]',
      '',
    ].join('\n'),
  );
  const low = join(dir, 'low');
  const high = join(dir, 'high');
  const explained = await airlock(['--home', low, 'lock', '--explain', 'LIB'], { cwd: dir });
  assert.equal(explained.code, 0, explained.stderr);
  assert.match(
    explained.stdout,
    /pypi:lib-2\.0-cp312-cp312-manylinux_2_17_aarch64\.whl \(version 2\.0\)\n {2}for: linux\/arm64 python 3\.12 glibc-2\.28\n {2}required by: app==1\.0\n {2}asked as: lib>=1\.0 from app==1\.0\n/,
  );
  const app = await airlock(['--home', low, 'lock', '--explain', 'app'], { cwd: dir });
  assert.match(
    app.stdout,
    /asked as: app\[fast\] \(any version\) from airlock\.yaml\n {2}newer, not chosen: 2\.0: its dependencies conflict with the rest \(tried, backtracked\)\n/,
  );

  // An upstream that serves other bytes than its index promised: fetch names the file, stores nothing.
  const served = join(dir, 'index', 'files', 'lib-1.0-py3-none-any.whl');
  const genuine = await readFile(served);
  await writeFile(served, Buffer.concat([genuine, Buffer.from('tampered')]));
  const lied = await airlock(['--home', low, 'fetch'], { cwd: dir });
  assert.equal(lied.code, 1);
  assert.match(lied.stderr, /pypi:lib-1\.0-py3-none-any\.whl: expected (sha256:[0-9a-f]{64}|\d+ bytes)/);
  await writeFile(served, genuine);

  for (const args of [['fetch'], ['bundle', 'create', '-o', 'py.airlock']]) {
    const r = await airlock(['--home', low, ...args], { cwd: dir });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  const imp = await airlock(['--home', high, 'import', join(dir, 'py.airlock')], { offline: true });
  assert.equal(imp.code, 0, imp.stderr);
  const listed = JSON.parse((await airlock(['--home', high, '--json', 'list', '--ecosystem', 'pypi'])).stdout) as { key: string }[];
  const expected = [
    ...EXPECTED,
    'extra_dep-1.0-py3-none-any.whl',
    'native-1.0-py3-none-manylinux_2_17_aarch64.whl',
    'native-1.0-py3-none-manylinux_2_17_x86_64.whl',
  ];
  assert.deepEqual(
    listed.map((a) => a.key),
    expected.sort(),
  );

  const server = await serveOffline(t, ['--home', high, 'serve', '--listen', '127.0.0.1:8080']);
  const venv = join(dir, 'venv');
  assert.equal((await run('python3', ['-m', 'venv', venv])).code, 0);
  const install = await inNamespace(server, `${venv}/bin/pip`, [
    'install',
    '--no-cache-dir',
    '--disable-pip-version-check',
    '--index-url',
    'http://127.0.0.1:8080/pypi/simple/',
    'app[fast]',
    'native',
  ]);
  assert.equal(install.code, 0, install.stdout + install.stderr);
  assert.match(install.stdout, /Successfully installed .*app-1\.0/);
  assert.match(install.stdout, /lib-[12]\.0/);
  assert.match(install.stdout, /extra-dep-1\.0/, 'the extra brought its dependency');
  assert.match(install.stdout, /native-1\.0-py3-none-manylinux_2_17_x86_64\.whl/, 'the platform wheel for this machine');
  assert.doesNotMatch(install.stdout, /winonly|armhelper/);
});
