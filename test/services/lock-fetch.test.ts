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
  assert.deepEqual(parsed.artifacts.map((x) => [x.key, x.digest, x.size]), [
    ['b.txt', digestOf(b), b.length],
    ['x/a.bin', digestOf(a), a.length],
  ]);
  assert.ok(reporter.lines.some((l) => /files:b\.txt: no sha256 given; recorded sha256:/.test(l)));
  // The second lock downloaded only the file without a declared digest again.
  assert.equal(up.requests.filter((r) => r.path === '/a.bin').length, 1);
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
  const lock = lockFor(up, [['/good.bin', good], ['/liar.bin', claimed]]);
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
