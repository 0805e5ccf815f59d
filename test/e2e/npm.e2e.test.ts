import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { airlock, inNamespace, serveOffline } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

async function pkg(dir: string, manifest: Record<string, unknown>, files: Record<string, string> = {}): Promise<string> {
  const at = join(dir, String(manifest.name).replace('/', '__'), String(manifest.version));
  await mkdir(at, { recursive: true });
  await writeFile(join(at, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const [f, body] of Object.entries(files)) await writeFile(join(at, f), body, { mode: 0o755 });
  return at;
}

/**
 * The hosted npm registry with the real npm client, all inside a namespace with no route out:
 * publish (refused without a token, and over an existing version), install from a clean
 * cache with a dependency range and a bin, dist-tags, deprecation, unpublish of one version,
 * whoami, ping, search, audit, and a legacy login that hands out a publisher token.
 */
test('npm: publish, install, dist-tag, deprecate, unpublish, login and search with the real npm client', async (t) => {
  const dir = await tempDir(t);
  const home = join(dir, 'home');
  const token = async (name: string, role: string) =>
    (await airlock(['--home', home, 'token', 'create', '--name', name, '--role', role])).stdout.trim();
  const publisher = await token('ci', 'publisher');
  const reader = await token('dev', 'reader');
  const server = await serveOffline(t, ['--home', home, 'serve', '--listen', '127.0.0.1:8080']);
  const registry = 'http://127.0.0.1:8080/npm/';
  const rc = async (file: string, tok?: string) => {
    await writeFile(
      join(dir, file),
      `registry=${registry}\n${tok ? `//127.0.0.1:8080/npm/:_authToken=${tok}\n` : ''}update-notifier=false\nfund=false\n`,
    );
    return join(dir, file);
  };
  const asCi = await rc('ci.npmrc', publisher);
  const asDev = await rc('dev.npmrc', reader);
  const npm = (userconfig: string, cwd: string, ...args: string[]) =>
    inNamespace(server, 'sh', [
      '-c',
      `cd '${cwd}' && npm --userconfig '${userconfig}' --cache '${join(dir, 'cache', String(Math.random()))}' ${args.map((a) => `'${a}'`).join(' ')}`,
    ]);

  const src = join(dir, 'src');
  const left10 = await pkg(
    src,
    { name: 'leftish', version: '1.0.0', description: 'pads on the left', main: 'index.js' },
    { 'index.js': 'module.exports = (s) => " " + s;\n' },
  );
  const left11 = await pkg(
    src,
    { name: 'leftish', version: '1.1.0', description: 'pads on the left', main: 'index.js' },
    { 'index.js': 'module.exports = (s) => "  " + s;\n' },
  );
  const hello = await pkg(
    src,
    { name: '@team/hello', version: '1.0.0', bin: { hello: 'bin.js' }, dependencies: { leftish: '^1.0.0' } },
    { 'bin.js': '#!/usr/bin/env node\nconsole.log(require("leftish")("hello from airlock"));\n' },
  );

  const denied = await npm(asDev, left10, 'publish');
  assert.notEqual(denied.code, 0, 'a reader token cannot publish');
  const anonymous = await inNamespace(server, 'curl', [
    '-s',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-X',
    'PUT',
    '-H',
    'content-type: application/json',
    '--data',
    '{}',
    `${registry}leftish`,
  ]);
  assert.equal(anonymous.stdout, '401', 'no token, no publish (npm itself stops before sending)');
  for (const p of [left10, left11, hello]) {
    const r = await npm(asCi, p, 'publish', '--access', 'public');
    assert.equal(r.code, 0, r.stdout + r.stderr);
  }
  const again = await npm(asCi, left11, 'publish');
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /cannot publish over the previously published versions/);

  const app = join(dir, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '0.0.0', private: true }));
  const installed = await npm(asDev, app, 'install', '@team/hello');
  assert.equal(installed.code, 0, installed.stdout + installed.stderr);
  const ran = await inNamespace(server, join(app, 'node_modules', '.bin', 'hello'), []);
  assert.equal(ran.stdout, '  hello from airlock\n', 'the bin runs with leftish 1.1.0 chosen for ^1.0.0');
  const audited = await npm(asDev, app, 'audit');
  assert.equal(audited.code, 0, audited.stdout + audited.stderr);

  assert.equal((await npm(asCi, app, 'dist-tag', 'add', 'leftish@1.0.0', 'stable')).code, 0);
  assert.match((await npm(asDev, app, 'dist-tag', 'ls', 'leftish')).stdout, /latest: 1\.1\.0\nstable: 1\.0\.0/);
  assert.equal((await npm(asCi, app, 'deprecate', 'leftish@1.0.0', 'use 1.1')).code, 0);
  assert.equal((await npm(asDev, app, 'view', 'leftish@1.0.0', 'deprecated')).stdout.trim(), 'use 1.1');
  const unpublished = await npm(asCi, app, 'unpublish', 'leftish@1.1.0');
  assert.equal(unpublished.code, 0, unpublished.stdout + unpublished.stderr);
  assert.deepEqual(JSON.parse((await npm(asDev, app, 'view', 'leftish', 'versions', '--json')).stdout), ['1.0.0']);

  assert.equal((await npm(asCi, app, 'whoami')).stdout.trim(), 'ci');
  assert.equal((await npm(asDev, app, 'ping')).code, 0);
  const found = await npm(asDev, app, 'search', 'left');
  assert.match(found.stdout, /leftish/, found.stderr);

  // Legacy login: any user name, a publisher token as the password; a new publisher token comes back.
  const login = (password: string) =>
    inNamespace(server, 'curl', [
      '-s',
      '-X',
      'PUT',
      '-H',
      'content-type: application/json',
      '--data',
      JSON.stringify({ name: 'alice', password }),
      `${registry}-/user/org.couchdb.user:alice`,
    ]);
  assert.match((await login(reader)).stdout, /log in with an airlock publisher token/);
  const issued = (JSON.parse((await login(publisher)).stdout) as { token: string }).token;
  assert.match((await npm(await rc('alice.npmrc', issued), app, 'whoami')).stdout, /^npm-alice-/);

  const log = JSON.parse((await airlock(['--home', home, '--json', 'audit', 'log'])).stdout) as {
    actor: string;
    action: string;
    subject: string;
  }[];
  assert.deepEqual(
    log.filter((e) => e.action.startsWith('npm.')).map((e) => `${e.actor} ${e.action} ${e.subject}`),
    [
      'token:ci npm.publish leftish@1.0.0',
      'token:ci npm.publish leftish@1.1.0',
      'token:ci npm.publish @team/hello@1.0.0',
      'token:ci npm.dist-tag leftish:stable',
      'token:ci npm.deprecate leftish@1.0.0',
      // The unpublish moves latest back, in the same document: a ref change, so audited too.
      'token:ci npm.dist-tag leftish:latest',
      'token:ci npm.unpublish leftish@1.1.0',
      'npm-login:alice npm.login alice',
    ],
  );
});
