import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { serializeManifest, volumeFileName } from '../../src/bundle/format.js';
import { digestOf } from '../../src/core/digest.js';
import { Store } from '../../src/core/store.js';
import { silentReporter } from '../../src/core/report.js';
import { createBundle, readBundleHeader, verifyBundles } from '../../src/services/bundle.js';
import { custodyPath } from '../../src/custody/custody-file.js';
import { importBundles } from '../../src/services/import.js';
import { verifyStore } from '../../src/services/verify-store.js';
import { bytes, seedLock } from '../helpers/seed.js';
import { type CraftEntry, craftTar, layoutEntries } from '../helpers/craft.js';
import { importOutcomes, storeSnapshot } from '../helpers/snapshot.js';
import { twoStores } from '../helpers/stores.js';

const opts = { sequence: 1, creator: 'test@host', reporter: silentReporter };

const FILES = {
  'tools/a.bin': bytes(300_000, 1),
  'tools/b.bin': bytes(70_000, 2),
  'docs/readme.txt': Buffer.from('hello from the low side\n'),
};

test('bundle create is deterministic and import makes every artifact visible', async (t) => {
  const { dir, low, high } = await twoStores(t);
  const lock = await seedLock(low, FILES);
  const a = await createBundle(low, lock, { ...opts, out: join(dir, 'a.airlock') });
  const b = await createBundle(low, lock, { ...opts, out: join(dir, 'b.airlock') });
  assert.deepEqual(await readFile(a.files[0]!), await readFile(b.files[0]!));
  assert.equal(a.bundleId, b.bundleId);

  const [v] = await verifyBundles(a.files, silentReporter);
  assert.deepEqual(v!.verified, [1]);

  const res = await importBundles(high, a.files, silentReporter);
  assert.equal(res[0]!.outcome, 'imported');
  assert.equal(res[0]!.added, 3);
  const listed = await high.meta.listArtifacts();
  assert.deepEqual(
    listed.map((x) => x.key),
    ['docs/readme.txt', 'tools/a.bin', 'tools/b.bin'],
  );
  assert.ok(listed.every((x) => x.bundleId === a.bundleId));
  const report = await verifyStore(high, silentReporter);
  assert.deepEqual(report.problems, []);

  const again = await importBundles(high, a.files, silentReporter);
  assert.equal(again[0]!.outcome, 'unchanged');
  assert.deepEqual(importOutcomes(high.home), ['imported', 'unchanged']);
});

test('split volumes with a chunked blob: any order, over several runs, visible only when complete', async (t) => {
  const { dir, low, high } = await twoStores(t);
  const big = bytes(600_000, 7);
  const lock = await seedLock(low, { ...FILES, 'models/big.bin': big });
  const out = join(dir, 'set.airlock');
  const w = await createBundle(low, lock, { ...opts, out, split: 250_000 });
  assert.ok(w.manifest.volumes >= 4, `expected several volumes, got ${w.manifest.volumes}`);
  const bigPlacement = w.manifest.blobs.find((p) => p.size === big.length)!;
  assert.ok(bigPlacement.chunks && bigPlacement.chunks.length >= 3, 'the big blob is cut into chunks');
  for (const f of w.files) assert.ok((await readFile(f)).length <= 250_000, `${f} fits the split size`);

  // Each volume re-made alone is byte-identical.
  const again = await createBundle(low, lock, { ...opts, out: join(dir, 'again.airlock'), split: 250_000, onlyVolume: 2 });
  assert.deepEqual(await readFile(again.files[0]!), await readFile(w.files[1]!));

  const reversed = [...w.files].reverse();
  const first = await importBundles(high, reversed.slice(0, 2), silentReporter);
  assert.deepEqual(
    first.map((r) => r.outcome),
    ['staged', 'staged'],
  );
  assert.deepEqual(await high.meta.listArtifacts(), [], 'nothing visible before the last volume');
  const rest = await importBundles(high, reversed.slice(2), silentReporter);
  assert.equal(rest.at(-1)!.outcome, 'imported');
  const got = await high.meta.getArtifact('files', 'models/big.bin');
  assert.equal(got?.size, big.length);
  const stream = await high.blobs.open(got!.digest);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  assert.deepEqual(Buffer.concat(chunks), big);
  assert.deepEqual((await verifyStore(high, silentReporter)).problems, []);
});

async function refused(t: TestContext, high: Store, file: string, pattern: RegExp): Promise<void> {
  const before = await storeSnapshot(high.home);
  await assert.rejects(importBundles(high, [file], silentReporter), pattern);
  assert.equal(await storeSnapshot(high.home), before, 'the store is unchanged');
  assert.equal(importOutcomes(high.home).at(-1), 'refused');
  assert.ok(t);
}

test('hostile bundles are refused, named, and leave the store unchanged', async (t) => {
  const { dir, low, high } = await twoStores(t);
  const lock = await seedLock(low, FILES);
  const { files } = await createBundle(low, lock, { ...opts, out: join(dir, 'good.airlock') });
  const good = await readFile(files[0]!);

  const truncated = join(dir, 'truncated.airlock');
  await writeFile(truncated, good.subarray(0, good.length - 100_000));
  await refused(t, high, truncated, /truncated\.airlock: .*(truncat|ends)/i);

  const flipped = join(dir, 'flipped.airlock');
  const f = Buffer.from(good);
  const at = f.indexOf(FILES['tools/a.bin'].subarray(0, 64)) + 1000;
  f[at] = f[at]! ^ 0xff;
  await writeFile(flipped, f);
  await refused(
    t,
    high,
    flipped,
    /flipped\.airlock: blob sha256:[0-9a-f]{64} \(files:tools\/a\.bin\) is corrupt: expected sha256:[0-9a-f]{64}, got sha256:/,
  );

  const missingFile = join(dir, 'nope.airlock');
  await assert.rejects(importBundles(high, [missingFile], silentReporter), /nope\.airlock: no such file/);
});

test('a partial volume set stages and says what is missing; a bad later volume keeps the good one staged', async (t) => {
  const { dir, low, high } = await twoStores(t);
  const lock = await seedLock(low, FILES);
  const w = await createBundle(low, lock, { ...opts, out: join(dir, 'p.airlock'), split: 200_000 });
  assert.ok(w.files.length >= 2);
  const [r] = await importBundles(high, [w.files[0]!], silentReporter);
  assert.equal(r!.outcome, 'staged');
  assert.deepEqual(
    r!.missing,
    Array.from({ length: w.files.length - 1 }, (_, i) => i + 2),
  );
  const head = await readBundleHeader(w.files[1]!);
  assert.equal(head.bundleId, w.bundleId);
  assert.equal(volumeFileName(join(dir, 'p.airlock'), 2, w.files.length), w.files[1]);

  const bad = join(dir, 'bad-vol2.airlock');
  const v2 = await readFile(w.files[1]!);
  await writeFile(bad, v2.subarray(0, v2.length - 2048));
  await refused(t, high, bad, /bad-vol2\.airlock: /);
  assert.deepEqual(await high.meta.receivedVolumes(w.bundleId), [1], 'the good volume stays staged');
  const rest = await importBundles(high, w.files.slice(1), silentReporter);
  assert.equal(rest.at(-1)!.outcome, 'imported');
  assert.equal((await high.meta.listArtifacts()).length, 3);
});

test('crafted bundles: unsafe entries, wrong version, missing or unlisted blobs are refused with the store unchanged', async (t) => {
  const { dir, low, high } = await twoStores(t);
  const lock = await seedLock(low, { 'a.txt': Buffer.from('alpha\n'), 'b.txt': Buffer.from('beta\n') });
  const good = await createBundle(low, lock, { ...opts, out: join(dir, 'good.airlock') });
  const m = good.manifest;
  const blobEntries = m.blobs.map((p) => ({
    name: `blobs/sha256/${p.digest.slice(7)}`,
    data: p.size === 6 ? Buffer.from('alpha\n') : Buffer.from('beta\n'),
  }));
  const { entries: meta } = layoutEntries(m);
  const cases: [string, CraftEntry[], RegExp][] = [
    ['dotdot', [...meta, ...blobEntries, { name: 'blobs/../../etc/passwd', data: Buffer.from('x') }], /\.\./],
    ['absolute', [...meta, { name: '/etc/passwd', data: Buffer.from('x') }, ...blobEntries], /absolute/i],
    ['symlink', [...meta, { name: 'blobs/sha256/link', type: 'symlink', linkname: '/etc/passwd' }, ...blobEntries], /symlink|symbolic/i],
    ['hardlink', [...meta, { name: 'blobs/sha256/hard', type: 'link', linkname: 'oci-layout' }, ...blobEntries], /link/i],
    ['device', [...meta, { name: 'blobs/sha256/dev', type: 'character-device' }, ...blobEntries], /device/i],
    ['duplicate', [...meta, ...blobEntries, blobEntries[0]!], /duplicate/i],
    ['missing-blob', [...meta, blobEntries[0]!], /listed for volume 1 but missing/],
    ['unlisted-blob', [...meta, ...blobEntries, { name: `blobs/sha256/${'e'.repeat(64)}`, data: Buffer.from('?') }], /not listed/],
  ];
  const lacking = {
    ...m,
    artifacts: [
      ...m.artifacts,
      {
        ...m.artifacts[0]!,
        key: 'c.txt',
        name: 'c.txt',
        digest: `sha256:${'c'.repeat(64)}` as const,
        blobs: [{ digest: `sha256:${'c'.repeat(64)}` as const, size: 1 }],
      },
    ],
  };
  cases.push(['manifest-lists-absent-digest', [...layoutEntries(lacking).entries, ...blobEntries], /does not carry/]);
  const v2 = { ...JSON.parse(serializeManifest(m)), formatVersion: 2 };
  cases.push(['format-v2', [...layoutEntries(v2).entries, ...blobEntries], /version 2 is not supported/]);
  for (const [name, entries, pattern] of cases) {
    const file = join(dir, `${name}.airlock`);
    await writeFile(file, await craftTar(entries));
    await refused(t, high, file, pattern);
  }
  // The crafted good layout itself imports, so the refusals above are about what each case changed.
  const ok = join(dir, 'crafted-good.airlock');
  await writeFile(ok, await craftTar([...meta, ...blobEntries]));
  const [r] = await importBundles(high, [ok], silentReporter);
  assert.equal(r!.outcome, 'imported');
});

test('a bundle that would change a stored artifact is refused before its blobs are read', async (t) => {
  const { dir, low, high } = await twoStores(t);
  const first = await createBundle(low, await seedLock(low, { 'x.txt': Buffer.from('one\n') }, 'first'), {
    ...opts,
    out: join(dir, '1.airlock'),
  });
  await importBundles(high, first.files, silentReporter);
  const other = await Store.open(join(dir, 'other'));
  t.after(() => other.close());
  const second = await createBundle(other, await seedLock(other, { 'x.txt': Buffer.from('two\n') }, 'second'), {
    ...opts,
    sequence: 2,
    out: join(dir, '2.airlock'),
  });
  await refused(t, high, second.files[0]!, /files:x\.txt: the store already holds sha256:[0-9a-f]{64}, the bundle has sha256:/);
});

test('chunks that do not add up to the blob they claim are refused at reassembly', async (t) => {
  const { dir, high } = await twoStores(t);
  const part1 = Buffer.from('first half|');
  const part2 = Buffer.from('second half');
  const claimed = digestOf('something else entirely');
  const size = part1.length + part2.length;
  const manifest = {
    mediaType: 'application/vnd.airlock.bundle.manifest.v1+json' as const,
    formatVersion: 1 as const,
    name: 'liar',
    sequence: 1,
    creator: 't',
    target: { platforms: ['linux/amd64'], python: [] },
    lockDigest: digestOf('lock'),
    volumes: 1,
    artifacts: [
      {
        ecosystem: 'files',
        key: 'm.bin',
        name: 'm.bin',
        version: '',
        digest: claimed,
        size,
        metadata: {},
        blobs: [{ digest: claimed, size }],
      },
    ],
    blobs: [
      {
        digest: claimed,
        size,
        chunks: [
          { digest: digestOf(part1), size: part1.length, volume: 1 },
          { digest: digestOf(part2), size: part2.length, volume: 1 },
        ],
      },
    ],
  };
  const { entries } = layoutEntries(manifest);
  const file = join(dir, 'liar.airlock');
  await writeFile(
    file,
    await craftTar([
      ...entries,
      { name: `blobs/sha256/${digestOf(part1).slice(7)}`, data: part1 },
      { name: `blobs/sha256/${digestOf(part2).slice(7)}`, data: part2 },
    ]),
  );
  await assert.rejects(
    importBundles(high, [file], silentReporter),
    /bundle liar: blob sha256:[0-9a-f]{64} reassembled from 2 chunks hashes to sha256:/,
  );
  assert.deepEqual(await high.meta.listArtifacts(), []);
  assert.equal(await high.blobs.stat(claimed), undefined);
  assert.equal(importOutcomes(high.home).at(-1), 'refused');
});

test("import sweeps temp files of dead processes only; a live server's upload in progress stays", async (t) => {
  const { dir, low, high } = await twoStores(t);
  const { spawn } = await import('node:child_process');
  const sleeper = spawn('sleep', ['30']);
  t.after(() => {
    sleeper.kill();
  });
  const tmp = await high.blobs.tempDir();
  const live = join(tmp, `.tmp-${sleeper.pid}-aaaa`);
  const dead = join(tmp, '.tmp-4194304-bbbb');
  await writeFile(live, 'upload in progress');
  await writeFile(dead, 'left by a crash');
  const bundle = await createBundle(low, await seedLock(low, { 'x.txt': Buffer.from('x\n') }), { ...opts, out: join(dir, 'x.airlock') });
  await importBundles(high, bundle.files, silentReporter);
  assert.equal(await readFile(live, 'utf8'), 'upload in progress');
  await assert.rejects(readFile(dead), /ENOENT/);
});

test('a --split set that fits in one volume is written under exactly the -o name, and its custody file is found either way', async (t) => {
  const { dir, low, high } = await twoStores(t);
  const lock = await seedLock(low, FILES);
  const out = join(dir, 'app.airlock');
  const w = await createBundle(low, lock, { ...opts, out, split: 10_000_000 });
  assert.equal(w.manifest.volumes, 1);
  assert.deepEqual(w.files, [out]);
  assert.equal((await readBundleHeader(out)).bundleId, w.bundleId);
  const again = await createBundle(low, lock, { ...opts, out, split: 10_000_000, onlyVolume: 1 });
  assert.deepEqual(again.files, [out]);
  assert.equal(custodyPath(out), `${out}.custody`);
  assert.equal(custodyPath(volumeFileName(out, 1, 1)), `${out}.custody`, 'a set of one named by an older airlock');
  const [r] = await importBundles(high, [out], silentReporter);
  assert.equal(r!.outcome, 'imported');
});
