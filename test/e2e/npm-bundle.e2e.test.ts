import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AIRLOCK, airlock, inNamespace, run, serveOffline } from '../helpers/cli.js';
import { freePort } from '../helpers/oci.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A package-lock with platform-specific optional packages (the esbuild pattern) crosses the
 * gap: the upstream is an airlock registry with published test packages; the lock is pinned
 * for linux/amd64 + linux/arm64, so both Linux builds travel and the darwin one stays; the
 * closed side (no network) imports, serves, and `npm ci` installs from it.
 */
test('npm: a package-lock for two Linux platforms → bundle → offline import → npm ci from airlock', async (t) => {
  const dir = await tempDir(t);
  const upHome = join(dir, 'upstream');
  const publisher = (await airlock(['--home', upHome, 'token', 'create', '--name', 'ci', '--role', 'publisher'])).stdout.trim();
  const reader = (await airlock(['--home', upHome, 'token', 'create', '--name', 'mirror', '--role', 'reader'])).stdout.trim();
  const port = await freePort();
  // A private upstream: every read needs a token, which airlock finds in the .npmrc beside airlock.yaml.
  const up = spawn(AIRLOCK, ['--home', upHome, 'serve', '--listen', `127.0.0.1:${port}`, '--auth', 'required'], { stdio: 'ignore' });
  t.after(() => {
    up.kill('SIGTERM');
  });
  for (let i = 0; i < 100 && (await run('curl', ['-sf', `http://127.0.0.1:${port}/healthz`])).code !== 0; i++) await sleep(100);
  const upstream = `http://127.0.0.1:${port}/npm/`;
  const npmrc = join(dir, 'up.npmrc');
  await writeFile(
    npmrc,
    `registry=${upstream}\n//127.0.0.1:${port}/npm/:_authToken=${publisher}\nupdate-notifier=false\nfund=false\naudit=false\n`,
  );
  const npm = (cwd: string, ...args: string[]) => run('npm', ['--userconfig', npmrc, '--cache', join(dir, 'cache-up'), ...args], { cwd });

  const pkg = async (manifest: Record<string, unknown>, files: Record<string, string> = {}) => {
    const at = join(dir, 'src', String(manifest.name).replace('/', '__'));
    await mkdir(at, { recursive: true });
    await writeFile(join(at, 'package.json'), JSON.stringify(manifest));
    for (const [f, body] of Object.entries(files)) await writeFile(join(at, f), body);
    const r = await npm(at, 'publish', '--access', 'public');
    assert.equal(r.code, 0, r.stderr);
  };
  const natives = [
    ['linux', 'x64'],
    ['linux', 'arm64'],
    ['darwin', 'arm64'],
  ] as const;
  for (const [os, cpu] of natives)
    await pkg(
      { name: `@demo/native-${os}-${cpu}`, version: '1.0.0', os: [os], cpu: [cpu], main: 'index.js' },
      { 'index.js': `module.exports = '${os}-${cpu}';\n` },
    );
  await pkg(
    {
      name: '@demo/native',
      version: '1.0.0',
      main: 'index.js',
      scripts: { postinstall: "node -e \"require('fs').writeFileSync('installed.txt', 'ok')\"" },
      optionalDependencies: Object.fromEntries(natives.map(([os, cpu]) => [`@demo/native-${os}-${cpu}`, '1.0.0'])),
    },
    {
      'index.js':
        "for (const p of ['linux-x64', 'linux-arm64', 'darwin-arm64']) { try { module.exports = require('@demo/native-' + p); break; } catch {} }\n",
    },
  );
  // A plugin that needs native as a peer: npm installs the peer, and so must the bundle.
  await pkg(
    { name: '@demo/plugin', version: '1.0.0', main: 'index.js', peerDependencies: { '@demo/native': '^1.0.0' } },
    { 'index.js': "module.exports = require('@demo/native');\n" },
  );

  const project = join(dir, 'project');
  await mkdir(project);
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'project', version: '1.0.0', private: true, dependencies: { '@demo/plugin': '^1.0.0' } }),
  );
  // The lock is written as on a Mac: what this machine is must not matter.
  const locked = await npm(project, 'install', '--package-lock-only', '--os', 'darwin', '--cpu', 'arm64');
  assert.equal(locked.code, 0, locked.stderr);
  const lockText = await readFile(join(project, 'package-lock.json'), 'utf8');
  assert.match(lockText, /node_modules\/@demo\/native-darwin-arm64/, "npm records every platform's optional package");

  await writeFile(join(dir, '.npmrc'), `@demo:registry=${upstream}\n//127.0.0.1:${port}/npm/:_authToken=\${MIRROR_TOKEN}\n`);
  const env = { MIRROR_TOKEN: reader };
  // The default registry is one that answers nothing: @demo packages must come from their scope's.
  await writeFile(
    join(dir, 'airlock.yaml'),
    `name: web\ntarget: { platforms: [linux/amd64, linux/arm64] }\nnpm:\n  registry: http://127.0.0.1:9/\n  lockfiles: [project/package-lock.json]\n`,
  );
  const low = join(dir, 'low');
  for (const args of [['lock'], ['fetch'], ['bundle', 'create', '-o', 'web.airlock']]) {
    const r = await airlock(['--home', low, ...args], { cwd: dir, env });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}\n${lockText}`);
  }
  const keysOf = async (lock: string) =>
    (JSON.parse(await readFile(join(dir, lock), 'utf8')) as { artifacts: { key: string }[] }).artifacts.map((a) => a.key);
  const expected = ['@demo/native-linux-arm64@1.0.0', '@demo/native-linux-x64@1.0.0', '@demo/native@1.0.0', '@demo/plugin@1.0.0'];
  assert.deepEqual(await keysOf('airlock.lock'), expected);

  // The same from a package spec: npm's own resolver builds the tree, the targets filter it.
  await writeFile(
    join(dir, 'spec.yaml'),
    `name: spec\ntarget: { platforms: [linux/amd64, linux/arm64] }\nnpm:\n  packages: ["@demo/plugin@^1"]\n`,
  );
  const spec = await airlock(['--home', low, 'lock', '-f', 'spec.yaml', '-o', 'spec.lock'], { cwd: dir, env });
  assert.equal(spec.code, 0, spec.stderr);
  assert.deepEqual(await keysOf('spec.lock'), expected);
  await writeFile(join(dir, 'mac.yaml'), `name: mac\ntarget: { platforms: [darwin/arm64] }\nnpm:\n  packages: ["@demo/plugin@^1"]\n`);
  assert.equal((await airlock(['--home', low, 'lock', '-f', 'mac.yaml', '-o', 'mac.lock'], { cwd: dir, env })).code, 0);
  assert.deepEqual(
    await keysOf('mac.lock'),
    ['@demo/native-darwin-arm64@1.0.0', '@demo/native@1.0.0', '@demo/plugin@1.0.0'],
    'a foreign target gets its own build, whatever this machine is',
  );
  await writeFile(join(dir, 'none.yaml'), `name: none\ntarget: { platforms: [linux/amd64] }\nnpm:\n  packages: ["@demo/native@^9"]\n`);
  const impossible = await airlock(['--home', low, 'lock', '-f', 'none.yaml', '-o', 'none.lock'], { cwd: dir, env });
  assert.equal(impossible.code, 1);
  assert.match(impossible.stderr, /npm: cannot resolve @demo\/native@\^9: ETARGET/);

  const high = join(dir, 'high');
  const imp = await airlock(['--home', high, 'import', join(dir, 'web.airlock')], { offline: true });
  assert.equal(imp.code, 0, imp.stderr);
  const server = await serveOffline(t, ['--home', high, 'serve', '--listen', '127.0.0.1:8080']);
  const closed = join(dir, 'closed');
  await mkdir(closed);
  for (const f of ['package.json', 'package-lock.json']) await copyFile(join(project, f), join(closed, f));
  const rc = join(dir, 'closed.npmrc');
  await writeFile(
    rc,
    `${(await airlock(['client-config', 'npm', '--url', 'http://127.0.0.1:8080'])).stdout.replace('${AIRLOCK_TOKEN}', 'none')}update-notifier=false\nfund=false\naudit=false\n`,
  );
  const ci = await inNamespace(server, 'sh', [
    '-c',
    `cd '${closed}' && npm ci --userconfig '${rc}' --cache '${join(dir, 'cache-closed')}'`,
  ]);
  assert.equal(ci.code, 0, ci.stdout + ci.stderr);
  const which = await run('node', ['-e', "console.log(require('@demo/plugin'))"], { cwd: closed });
  assert.equal(which.stdout.trim(), `linux-${process.arch}`);
  assert.equal(await readFile(join(closed, 'node_modules', '@demo', 'native', 'installed.txt'), 'utf8'), 'ok', 'the install script ran');

  // A lock whose integrity disagrees with the tarball is refused, naming the package.
  const lock = JSON.parse(lockText) as { packages: Record<string, { integrity?: string }> };
  lock.packages['node_modules/@demo/native']!.integrity = `sha512-${Buffer.alloc(64).toString('base64')}`;
  delete lock.packages['node_modules/@demo/native-linux-x64']!.integrity;
  await writeFile(join(project, 'package-lock.json'), JSON.stringify(lock));
  const bad = await airlock(['--home', join(dir, 'low2'), 'lock'], { cwd: dir, env });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /npm:@demo\/native@1\.0\.0: .* does not match the lock's integrity/);
  assert.match(
    bad.stderr,
    /node_modules\/@demo\/native-linux-x64: no integrity in the lockfile; pinned what the registry served \(sha512-/,
  );
});
