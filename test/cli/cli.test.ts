import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { airlock, inNamespace, serveOffline } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

test("--version, --help and every command's --help exit 0", async () => {
  const v = await airlock(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
  const help = await airlock(['--help']);
  assert.equal(help.code, 0);
  for (const c of ['init', 'list', 'verify', 'lock', 'fetch', 'bundle', 'import', 'serve', 'token', 'client-config', 'demo']) {
    assert.match(help.stdout, new RegExp(`\\n  ${c}\\b`), `--help lists ${c}`);
  }
  for (const args of [
    ['bundle', 'create'],
    ['bundle', 'inspect'],
    ['bundle', 'verify'],
    ['import'],
    ['serve'],
    ['token', 'create'],
    ['lock'],
    ['fetch'],
  ]) {
    const r = await airlock([...args, '--help']);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.stdout, /Usage: airlock/);
  }
});

test('usage errors exit 2, bad input exits 1 with a one-line message', async (t) => {
  const dir = await tempDir(t);
  const home = ['--home', join(dir, 'home')];
  assert.equal((await airlock(['frobnicate'])).code, 2);
  assert.equal((await airlock([...home, 'bundle', 'create'])).code, 2, 'missing -o');
  const split = await airlock([...home, 'bundle', 'create', '-o', join(dir, 'x.airlock'), '--split', '12X']);
  assert.equal(split.code, 2);
  assert.match(split.stderr, /--split: "12X" is not a size/);
  const listen = await airlock([...home, 'serve', '--listen', 'nowhere']);
  assert.equal(listen.code, 2);
  const baseUrl = await airlock([...home, 'serve', '--base-url', 'mirror.lab:8080']);
  assert.equal(baseUrl.code, 2);
  assert.match(baseUrl.stderr, /--base-url: "mirror\.lab:8080" is not an http:\/\/ or https:\/\/ URL/);
  assert.equal((await airlock([...home, 'token', 'create', '--name', 'x', '--role', 'god'])).code, 2);
  assert.equal((await airlock(['client-config', 'maven', '--url', 'http://m'])).code, 2);
  const pip = await airlock(['client-config', 'pip', '--url', 'http://mirror:8080']);
  assert.equal(pip.code, 0);
  assert.match(pip.stdout, /^index-url = http:\/\/mirror:8080\/pypi\/simple\/$/m);

  await writeFile(join(dir, 'airlock.yaml'), 'name: x\nfiles:\n  - url: ftp://example.invalid/a\n');
  const yaml = await airlock([...home, 'lock'], { cwd: dir });
  assert.equal(yaml.code, 1);
  assert.match(yaml.stderr, /^airlock: error: airlock\.yaml:3: files\.0\.url: expected an http:\/\/ or https:\/\/ URL\n/);
  await writeFile(join(dir, 'airlock.yaml'), 'name: x\nfiels: []\n');
  const unknown = await airlock([...home, 'lock'], { cwd: dir });
  assert.equal(unknown.code, 1);
  assert.match(
    unknown.stderr,
    /airlock\.yaml:2: fiels: unknown key \(allowed: name, target, files, pypi, npm, images, registries, huggingface, conda\)/,
  );

  const missing = await airlock([...home, 'import', join(dir, 'nope.airlock')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.airlock: no such file/);
  const history = JSON.parse((await airlock([...home, '--json', 'history'])).stdout) as { outcome: string; source: string }[];
  assert.deepEqual(
    history.map((h) => [h.outcome, h.source]),
    [['refused', join(dir, 'nope.airlock')]],
  );
  const notBundle = join(dir, 'not.airlock');
  await writeFile(notBundle, 'just text, not a tar at all');
  const refused = await airlock([...home, 'bundle', 'verify', notBundle]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /not\.airlock: /);
  assert.equal(refused.stderr.trim().split('\n').length, 1, 'one line');
});

test('token create prints the token alone on stdout and stores only its hash', async (t) => {
  const dir = await tempDir(t);
  const home = join(dir, 'home');
  const r = await airlock(['--home', home, 'token', 'create', '--name', 'ci', '--role', 'publisher']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 1);
  const token = lines[0]!;
  const db = await readFile(join(home, 'airlock.db')).catch(() => Buffer.alloc(0));
  const wal = await readFile(join(home, 'airlock.db-wal')).catch(() => Buffer.alloc(0));
  assert.ok(!db.includes(token) && !wal.includes(token), 'the plaintext token is not stored');
  const dup = await airlock(['--home', home, 'token', 'create', '--name', 'ci', '--role', 'reader']);
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /token "ci" already exists/);
  const list = JSON.parse((await airlock(['--home', home, '--json', 'token', 'list'])).stdout) as { name: string; role: string }[];
  assert.deepEqual(
    list.map((x) => [x.name, x.role]),
    [['ci', 'publisher']],
  );
  assert.ok(!JSON.stringify(list).includes(token));
  assert.equal((await airlock(['--home', home, 'token', 'revoke', 'nobody'])).code, 1);
});

test('a second writer waits for the write lock, then fails clearly naming the holder', async (t) => {
  const dir = await tempDir(t);
  const home = join(dir, 'home');
  assert.equal((await airlock(['--home', home, 'init'])).code, 0);
  // A live process (this test runner) holds the lock.
  await writeFile(join(home, 'write.lock'), JSON.stringify({ pid: process.pid, host: hostname(), command: 'import', since: 'now' }));
  const r = await airlock(['--home', home, 'token', 'create', '--name', 'x', '--role', 'reader'], {
    env: { AIRLOCK_LOCK_TIMEOUT_MS: '300' },
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`locked for writing by pid ${process.pid} .*\\(import`));
  // A lock left by a dead process is taken over.
  await writeFile(join(home, 'write.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), command: 'import', since: 'then' }));
  const ok = await airlock(['--home', home, 'token', 'create', '--name', 'x', '--role', 'reader']);
  assert.equal(ok.code, 0, ok.stderr);
});

test('demo runs the whole loop offline', async () => {
  const r = await airlock(['demo'], { offline: true });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /7\. Download a file/);
  assert.match(r.stdout, /matches the upstream file/);
  const listen = /serve --listen (127\.0\.0\.1:\d+)\n/.exec(r.stdout)?.[1];
  assert.ok(listen && r.stdout.includes(`serving at http://${listen}\n`), `the command shown serves where the demo does: ${r.stdout}`);
});

test('serve on a wildcard address names the Host each request used, never 0.0.0.0; --base-url wins', async (t) => {
  const dir = await tempDir(t);
  const realm = async (server: Awaited<ReturnType<typeof serveOffline>>, host: string) => {
    const r = await inNamespace(server, 'curl', ['-s', '-o', '/dev/null', '-D', '-', '-H', `Host: ${host}`, 'http://127.0.0.1:8080/v2/']);
    return /www-authenticate: Bearer realm="([^"]+)"/i.exec(r.stdout)?.[1];
  };
  const wildcard = await serveOffline(t, ['--home', join(dir, 'a'), 'serve', '--listen', '0.0.0.0:8080']);
  assert.equal(await realm(wildcard, 'mirror.lab:8080'), 'http://mirror.lab:8080/v2/token');
  wildcard.kill('SIGTERM');
  await once(wildcard, 'exit');
  const fixed = await serveOffline(t, [
    '--home',
    join(dir, 'b'),
    'serve',
    '--listen',
    '0.0.0.0:8080',
    '--base-url',
    'https://registry.lab/',
  ]);
  assert.equal(await realm(fixed, 'mirror.lab:8080'), 'https://registry.lab/v2/token');
});
