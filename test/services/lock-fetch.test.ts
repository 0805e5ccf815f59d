import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { digestOf } from '../../src/core/digest.js';
import { HttpClient } from '../../src/core/http.js';
import { type Reporter, silentReporter } from '../../src/core/report.js';
import { Store } from '../../src/core/store.js';
import { fetchLock } from '../../src/services/fetch.js';
import { lockManifest, readLockFile, readManifest, writeLockFile } from '../../src/services/lock.js';
import { bytes } from '../helpers/seed.js';
import { tempDir } from '../helpers/tmp.js';
import { type UpstreamFile, startUpstream } from '../helpers/upstream.js';

async function setup(t: TestContext, files: Record<string, UpstreamFile>) {
  const dir = await tempDir(t);
  const store = await Store.open(join(dir, 'home'));
  const http = new HttpClient({ backoffMs: 1, retries: 3 });
  t.after(async () => {
    await http.close();
    await store.close();
  });
  const up = await startUpstream(t, files);
  return { dir, store, http, up };
}

function collecting(): Reporter & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(m), warn: (m) => lines.push(`warning: ${m}`), progress: silentReporter.progress };
}

test('lock is deterministic and records a download when no sha256 is given', async (t) => {
  const a = bytes(50_000, 3);
  const b = Buffer.from('second\n');
  const { dir, store, http, up } = await setup(t, { '/a.bin': { body: a }, '/dl/b.txt': { body: b } });
  const yaml = join(dir, 'airlock.yaml');
  await writeFile(
    yaml,
    `name: t\nfiles:\n  - url: ${up.url}/a.bin\n    sha256: ${digestOf(a).slice(7)}\n    path: x/a.bin\n  - url: ${up.url}/dl/b.txt\n`,
  );
  const reporter = collecting();
  const m = await readManifest(yaml);
  const lock1 = await lockManifest(m, { store, http, reporter, manifestDir: dir });
  await writeLockFile(join(dir, 'one.lock'), lock1);
  const lock2 = await lockManifest(m, { store, http, reporter: silentReporter, manifestDir: dir });
  await writeLockFile(join(dir, 'two.lock'), lock2);
  assert.deepEqual(await readFile(join(dir, 'one.lock')), await readFile(join(dir, 'two.lock')));
  const parsed = await readLockFile(join(dir, 'one.lock'));
  assert.deepEqual(
    parsed.artifacts.map((x) => [x.key, x.digest, x.size]),
    [
      ['b.txt', digestOf(b), b.length],
      ['x/a.bin', digestOf(a), a.length],
    ],
  );
  assert.ok(reporter.lines.some((l) => /files:b\.txt: no sha256 given; recorded sha256:/.test(l)));
  // A declared sha256 needs only the size: no lock downloads it; the one without is downloaded each time.
  assert.deepEqual(
    up.requests.filter((r) => r.path === '/a.bin').map((r) => r.method),
    ['HEAD', 'HEAD'],
  );
  assert.equal(up.requests.filter((r) => r.path === '/dl/b.txt' && r.method === 'GET').length, 2);
});

test('lock: a declared sha256 is sized by HEAD, else by a one-byte Range, else by a download; fetch checks what HEAD said', async (t) => {
  const a = bytes(300_000, 31);
  const b = bytes(200_000, 32);
  const c = bytes(100_000, 33);
  const d = bytes(50_000, 34);
  const { dir, store, http, up } = await setup(t, {
    '/a.bin': { body: a },
    '/b.bin': { body: b, noHead: true },
    '/c.bin': { body: c, noHead: true, noRange: true, chunked: true },
    '/d.bin': { body: d, headSize: d.length + 1 },
  });
  const yaml = join(dir, 'airlock.yaml');
  await writeFile(
    yaml,
    `name: t
files:
${[
  ['a', a],
  ['b', b],
  ['c', c],
  ['d', d],
]
  .map(
    ([n, x]) => `  - url: ${up.url}/${String(n)}.bin
    sha256: ${digestOf(x as Buffer).slice(7)}
`,
  )
  .join('')}`,
  );
  const lock = await lockManifest(await readManifest(yaml), { store, http, reporter: silentReporter, manifestDir: dir });
  assert.deepEqual(
    lock.artifacts.map((x) => [x.key, x.digest, x.size]),
    [
      ['a.bin', digestOf(a), a.length],
      ['b.bin', digestOf(b), b.length],
      ['c.bin', digestOf(c), c.length],
      ['d.bin', digestOf(d), d.length + 1],
    ],
  );
  const by = (p: string) => up.requests.filter((r) => r.path === p).map((r) => `${r.method} ${r.range ?? ''}`.trim());
  assert.deepEqual(by('/a.bin'), ['HEAD']);
  assert.deepEqual(by('/b.bin'), ['HEAD', 'GET bytes=0-0']);
  assert.deepEqual(by('/c.bin'), ['HEAD', 'GET bytes=0-0', 'GET'], 'a server that ignores HEAD and Range: the file is downloaded');
  assert.ok(up.sent() <= c.length * 2 + 1, `one byte of b; c whole, and at most once more cut short: ${up.sent()} bytes`);
  assert.equal((await store.blobs.stat(digestOf(c)))?.size, c.length, 'what lock downloads it keeps');
  assert.equal(await store.blobs.stat(digestOf(a)), undefined, "downloading is fetch's job");

  // A HEAD that lied about the size poisons nothing: fetch checks size and digest, stores nothing for it.
  const reporter = collecting();
  await assert.rejects(fetchLock(lock, { store, http, reporter }), /1 of 4 artifact\(s\) could not be fetched: files:d\.bin/);
  assert.match(reporter.lines.join('\n'), /files:d\.bin: expected 50001 bytes, the server offers 50000/);
  assert.equal(await store.blobs.stat(digestOf(d)), undefined);
  assert.equal(await store.meta.getArtifact('files', 'd.bin'), undefined);
  assert.equal((await store.meta.getArtifact('files', 'a.bin'))?.size, a.length);
});

function lockFor(up: { url: string }, entries: [string, Buffer, Buffer?][]) {
  return {
    lockVersion: 1 as const,
    name: 't',
    target: { platforms: ['linux/amd64'], python: [] },
    artifacts: entries.map(([path, expected]) => ({
      ecosystem: 'files',
      key: path.slice(1),
      name: path.slice(1),
      version: '',
      digest: digestOf(expected),
      size: expected.length,
      metadata: {},
      blobs: [{ digest: digestOf(expected), size: expected.length, url: `${up.url}${path}` }],
    })),
  };
}

test('fetch: a lying upstream fails that artifact only, naming both digests, storing nothing for it', async (t) => {
  const good = bytes(10_000, 1);
  const claimed = bytes(10_000, 2);
  const served = bytes(10_000, 9);
  const { store, http, up } = await setup(t, { '/good.bin': { body: good }, '/liar.bin': { body: served } });
  const lock = lockFor(up, [
    ['/good.bin', good],
    ['/liar.bin', claimed],
  ]);
  const reporter = collecting();
  await assert.rejects(fetchLock(lock, { store, http, reporter }), /1 of 2 artifact\(s\) could not be fetched: files:liar\.bin/);
  const msg = reporter.lines.find((l) => l.includes('liar.bin'))!;
  assert.match(msg, new RegExp(`files:liar\\.bin: expected ${digestOf(claimed)}, got ${digestOf(served)}`));
  assert.equal(await store.blobs.stat(digestOf(served)), undefined);
  assert.equal(await store.blobs.stat(digestOf(claimed)), undefined);
  assert.equal(await store.meta.getArtifact('files', 'liar.bin'), undefined);
  assert.ok(await store.meta.getArtifact('files', 'good.bin'));
});

test('fetch: 404 names the artifact; 500 then success is retried', async (t) => {
  const body = bytes(4096, 5);
  const { store, http, up } = await setup(t, { '/flaky.bin': { body, failFirst: 2 } });
  const ok = await fetchLock(lockFor(up, [['/flaky.bin', body]]), { store, http, reporter: silentReporter });
  assert.equal(ok.downloaded, 1);
  assert.equal(up.requests.filter((r) => r.path === '/flaky.bin').length, 3);

  const reporter = collecting();
  await assert.rejects(fetchLock(lockFor(up, [['/gone.bin', bytes(100, 6)]]), { store, http, reporter }), /files:gone\.bin/);
  assert.match(reporter.lines.join('\n'), /files:gone\.bin: http:\/\/127\.0\.0\.1:\d+\/gone\.bin returned 404 Not Found/);
  assert.equal(up.requests.filter((r) => r.path === '/gone.bin').length, 1, '404 is not retried');
});

test('fetch: a connection reset mid-body resumes with a Range request; present blobs are not fetched again', async (t) => {
  const body = bytes(400_000, 11);
  const { store, http, up } = await setup(t, { '/big.bin': { body, resetAfter: 150_000 } });
  const lock = lockFor(up, [['/big.bin', body]]);
  await fetchLock(lock, { store, http, reporter: silentReporter });
  const reqs = up.requests.filter((r) => r.path === '/big.bin');
  assert.equal(reqs.length, 2);
  assert.match(reqs[1]!.range ?? '', /^bytes=\d+-$/);
  assert.ok(Number(/\d+/.exec(reqs[1]!.range!)![0]) > 0, 'resumed, not restarted');
  assert.equal((await store.blobs.stat(digestOf(body)))?.size, body.length);

  const again = await fetchLock(lock, { store, http, reporter: silentReporter });
  assert.deepEqual(again, { downloaded: 0, present: 1, bytes: 0 });
  assert.equal(up.requests.length, 2);
});
