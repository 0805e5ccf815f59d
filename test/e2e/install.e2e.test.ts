import assert from 'node:assert/strict';
import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

async function packed(t: import('node:test').TestContext): Promise<{ dir: string; tgz: string }> {
  const dir = await tempDir(t);
  // dist/ is already built by `npm test`; --ignore-scripts keeps prepack from building it again.
  const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir]);
  assert.equal(pack.code, 0, pack.stderr);
  const { filename, files } = (JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[])[0]!;
  const paths = files.map((f) => f.path);
  assert.ok(paths.includes('bin/airlock') && paths.includes('dist/src/cli/main.js'), 'the launcher and the built CLI are packed');
  assert.ok(!paths.some((p) => p.startsWith('dist/test/') || p.startsWith('src/')), 'tests and sources stay out of the package');
  return { dir, tgz: join(dir, filename) };
}

test("npm pack: the packed airlock runs (offline, with the checkout's dependencies)", async (t) => {
  const { dir, tgz } = await packed(t);
  assert.equal((await run('tar', ['xzf', tgz, '-C', dir])).code, 0);
  await symlink(join(REPO, 'node_modules'), join(dir, 'package', 'node_modules'));
  const bin = join(dir, 'package', 'bin', 'airlock');
  const offline = (args: string[]) => run('unshare', ['-n', bin, ...args]);
  const version = await offline(['--version']);
  assert.equal(version.code, 0, version.stderr);
  const init = await offline(['--home', join(dir, 'home'), 'init']);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /store ready at /);
});

/** `npm install -g` resolves airlock's dependencies from the configured registry: opt in with AIRLOCK_LIVE_NPM=1. */
test('npm install -g of the packed airlock (live registry)', { skip: !process.env.AIRLOCK_LIVE_NPM }, async (t) => {
  const { dir, tgz } = await packed(t);
  const prefix = join(dir, 'prefix');
  const install = await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tgz]);
  assert.equal(install.code, 0, install.stderr);
  const init = await run(join(prefix, 'bin', 'airlock'), ['--home', join(dir, 'home'), 'init']);
  assert.equal(init.code, 0, init.stderr);
});
