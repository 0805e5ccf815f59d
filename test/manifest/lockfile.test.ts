import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestOf } from '../../src/core/digest.js';
import { type Lockfile, parseLock, serializeLock } from '../../src/manifest/lockfile.js';

const art = (key: string) => ({
  ecosystem: 'files',
  key,
  name: key,
  version: '',
  digest: digestOf(key),
  size: 1,
  metadata: { b: 1, a: 2 },
  blobs: [{ digest: digestOf(key), size: 1, url: `https://x.invalid/${key}` }],
});

const lock = (keys: string[]): Lockfile => ({
  lockVersion: 1,
  name: 'l',
  target: { platforms: ['linux/amd64'], python: [] },
  artifacts: keys.map(art),
});

test('serializeLock is deterministic whatever the input order', () => {
  const a = serializeLock(lock(['b', 'a', 'c']));
  assert.equal(a, serializeLock(lock(['c', 'b', 'a'])));
  assert.ok(a.indexOf('"a": 2') < a.indexOf('"b": 1'), 'keys sorted');
  assert.deepEqual(
    parseLock(a, 'airlock.lock').artifacts.map((x) => x.key),
    ['a', 'b', 'c'],
  );
});

test('parseLock refuses what it cannot trust, naming the file', () => {
  const good = JSON.parse(serializeLock(lock(['a']))) as Record<string, unknown>;
  assert.throws(() => parseLock('{', 'x.lock'), /x\.lock: not valid JSON/);
  assert.throws(() => parseLock(JSON.stringify({ ...good, lockVersion: 2 }), 'x.lock'), /x\.lock: lockVersion 2 is not supported/);
  const badDigest = { ...good, artifacts: [{ ...art('a'), digest: 'md5:00' }] };
  assert.throws(() => parseLock(JSON.stringify(badDigest), 'x.lock'), /x\.lock: artifacts\.0\.digest: expected sha256/);
  const dup = { ...good, artifacts: [art('a'), art('a')] };
  assert.throws(() => parseLock(JSON.stringify(dup), 'x.lock'), /x\.lock: artifact files:a is listed twice/);
});

test('excluded: sorted and deduplicated in the bytes, left out when empty, refused twice', () => {
  const left = (key: string, requiredBy: string[]) => ({
    ecosystem: 'npm',
    key,
    name: key.split('@')[0]!,
    version: '1.0.0',
    reason: 'os darwin matches no target (linux/amd64)',
    requiredBy,
  });
  const a = serializeLock({ ...lock(['a']), excluded: [left('y@1.0.0', ['b', 'a', 'b']), left('x@1.0.0', [])] });
  assert.equal(a, serializeLock({ ...lock(['a']), excluded: [left('x@1.0.0', []), left('y@1.0.0', ['a', 'b'])] }));
  assert.deepEqual(
    parseLock(a, 'airlock.lock').excluded?.map((e) => [e.key, e.requiredBy]),
    [
      ['x@1.0.0', []],
      ['y@1.0.0', ['a', 'b']],
    ],
  );
  assert.equal(serializeLock({ ...lock(['a']), excluded: [] }), serializeLock(lock(['a'])), 'a lock with nothing left out reads as before');
  assert.equal(parseLock(serializeLock(lock(['a'])), 'old.lock').excluded, undefined);
  const dup = { ...(JSON.parse(a) as Record<string, unknown>), excluded: [left('x@1.0.0', []), left('x@1.0.0', [])] };
  assert.throws(() => parseLock(JSON.stringify(dup), 'x.lock'), /x\.lock: excluded npm:x@1\.0\.0 is listed twice/);
});
