import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { digestOf } from '../../src/core/digest.js';
import { airlock, inNamespace, serveOffline } from '../helpers/cli.js';
import { bytes } from '../helpers/seed.js';
import { tempDir } from '../helpers/tmp.js';
import { startUpstream } from '../helpers/upstream.js';

/**
 * The whole loop through the real CLI: the connected side locks, fetches and bundles from a
 * local upstream; the closed side verifies, imports and serves with no network at all
 * (`unshare -n`), and the real curl downloads through it.
 */
test('files end to end: low side → volumes → offline import → offline serve → curl', async (t) => {
  const dir = await tempDir(t);
  const low = join(dir, 'low');
  const high = join(dir, 'high');
  const tool = bytes(700_000, 21);
  const notes = Buffer.from('release notes\n');
  const up = await startUpstream(t, { '/dist/tool-1.2.tar.gz': { body: tool }, '/notes.txt': { body: notes } });
  await writeFile(
    join(dir, 'airlock.yaml'),
    [
      'name: e2e',
      'target: { platforms: [linux/amd64] }',
      'files:',
      `  - url: ${up.url}/dist/tool-1.2.tar.gz`,
      `    sha256: ${digestOf(tool).slice(7)}`,
      '    path: tools/tool-1.2.tar.gz',
      `  - url: ${up.url}/notes.txt`,
      '',
    ].join('\n'),
  );

  const ok = async (args: string[], offline = false) => {
    const r = await airlock(args, { cwd: dir, offline });
    assert.equal(r.code, 0, `airlock ${args.join(' ')} failed: ${r.stderr}`);
    return r;
  };
  await ok(['--home', low, 'lock']);
  await ok(['--home', low, 'fetch']);
  const created = await ok(['--home', low, 'bundle', 'create', '-o', 'e2e.airlock', '--split', '400K']);
  const volumes = created.stdout.trim().split('\n');
  assert.ok(volumes.length >= 2, `several volumes: ${created.stdout}`);
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.airlock')).sort(), volumes.map((v) => v.split('/').pop()).sort());

  // The closed side: nothing below may touch a network.
  await ok(['bundle', 'verify', ...volumes], true);
  const first = await ok(['--home', high, 'import', volumes[1]!], true);
  assert.match(first.stdout, /staged; waiting for volume\(s\) 1/);
  const rest = await ok(['--home', high, 'import', ...volumes], true);
  assert.match(rest.stdout, /imported: 2 artifact\(s\) added/);
  await ok(['--home', high, 'verify'], true);
  const listed = JSON.parse((await ok(['--home', high, '--json', 'list'], true)).stdout) as { key: string }[];
  assert.deepEqual(
    listed.map((a) => a.key),
    ['notes.txt', 'tools/tool-1.2.tar.gz'],
  );

  const token = (await ok(['--home', high, 'token', 'create', '--name', 'ci', '--role', 'reader'])).stdout.trim();
  assert.match(token, /^airlock_[A-Za-z0-9_-]{40,}$/);

  const server = await serveOffline(t, ['--home', high, 'serve', '--listen', '127.0.0.1:8080', '--auth', 'required']);
  const url = 'http://127.0.0.1:8080/files/tools/tool-1.2.tar.gz';
  const out = join(dir, 'downloaded.tar.gz');

  const anonymous = await inNamespace(server, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', url]);
  assert.equal(anonymous.stdout, '401');
  const basic = await inNamespace(server, 'curl', ['-fsS', '-u', `token:${token}`, '-o', out, url]);
  assert.equal(basic.code, 0, basic.stderr);
  assert.equal(
    createHash('sha256')
      .update(await readFile(out))
      .digest('hex'),
    digestOf(tool).slice(7),
  );
  const head10 = join(dir, 'head10');
  const bearer = await inNamespace(server, 'curl', ['-fsS', '-H', `Authorization: Bearer ${token}`, '-r', '0-9', '-o', head10, url]);
  assert.equal(bearer.code, 0, bearer.stderr);
  assert.deepEqual(await readFile(head10), tool.subarray(0, 10));
  const wrong = await inNamespace(server, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-u', 'token:nope', url]);
  assert.equal(wrong.stdout, '401');

  // Revoked: the same token no longer reads.
  await ok(['--home', high, 'token', 'revoke', 'ci']);
  const revoked = await inNamespace(server, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-u', `token:${token}`, url]);
  assert.equal(revoked.stdout, '401');
});

test('serve without --auth: anonymous curl downloads, resumes with -C -, and HEAD reports the digest', async (t) => {
  const dir = await tempDir(t);
  const low = join(dir, 'low');
  const high = join(dir, 'high');
  const body = bytes(300_000, 4);
  const up = await startUpstream(t, { '/a.bin': { body } });
  await writeFile(join(dir, 'airlock.yaml'), `name: open\nfiles:\n  - url: ${up.url}/a.bin\n`);
  for (const args of [
    ['--home', low, 'lock'],
    ['--home', low, 'bundle', 'create', '-o', 'open.airlock'],
  ]) {
    const r = await airlock(args, { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
  }
  const imp = await airlock(['--home', high, 'import', join(dir, 'open.airlock')], { offline: true });
  assert.equal(imp.code, 0, imp.stderr);
  const server = await serveOffline(t, ['--home', high, 'serve', '--listen', '127.0.0.1:8080']);
  const url = 'http://127.0.0.1:8080/files/a.bin';
  const part = join(dir, 'a.part');
  await writeFile(part, body.subarray(0, 100_000));
  const resumed = await inNamespace(server, 'curl', ['-fsS', '-C', '-', '-o', part, url]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(await readFile(part), body);
  const head = await inNamespace(server, 'curl', ['-fsSI', url]);
  assert.match(head.stdout, new RegExp(`etag: "${digestOf(body)}"`, 'i'));
  assert.match(head.stdout, /content-length: 300000/i);
  const missing = await inNamespace(server, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:8080/files/nope']);
  assert.equal(missing.stdout, '404');
  const escape = await inNamespace(server, 'curl', [
    '-s',
    '--path-as-is',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    'http://127.0.0.1:8080/files/../airlock.db',
  ]);
  assert.equal(escape.stdout, '404');
});
