import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentReporter } from '../../src/core/report.js';
import { createBundle, verifyBundles } from '../../src/services/bundle.js';
import { importBundles } from '../../src/services/import.js';
import { createTarWriter } from '../../src/core/tar.js';
import { PassThrough, Readable } from 'node:stream';
import { type BlobSink, MAX_MANIFEST_BYTES, readVolume } from '../../src/bundle/reader.js';
import { OCI_LAYOUT, serializeManifest } from '../../src/bundle/format.js';
import type { Store } from '../../src/core/store.js';
import { volumeIndex, volumeIndexHead } from '../../src/bundle/layout.js';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { digestOf } from '../../src/core/digest.js';
import { generateKey } from '../../src/core/keys.js';
import { parseTrustPolicy } from '../../src/custody/policy.js';
import { craftTar } from '../helpers/craft.js';
import { bytes, seedLock } from '../helpers/seed.js';
import { importOutcomes, storeSnapshot } from '../helpers/snapshot.js';
import { twoStores } from '../helpers/stores.js';
import { setTrustPolicy } from '../helpers/meta.js';

const opts = { sequence: 1, creator: 'test@host', reporter: silentReporter };

/** A small set of several volumes with a chunked blob: every kind of entry a volume can hold. */
async function smallSet(t: Parameters<typeof twoStores>[0]) {
  const ctx = await twoStores(t);
  const lock = await seedLock(ctx.low, { 'big.bin': bytes(14_000, 3), 'mid.bin': bytes(2500, 4), 'tiny.txt': Buffer.from('tiny\n') });
  const w = await createBundle(ctx.low, lock, { ...opts, out: join(ctx.dir, 'set.airlock'), split: 12_000 });
  assert.ok(w.manifest.volumes >= 2, `several volumes (${w.manifest.volumes})`);
  assert.ok(
    w.manifest.blobs.some((p) => p.chunks),
    'a chunked blob',
  );
  const volumes = await Promise.all(w.files.map((f) => readFile(f)));
  return { ...ctx, w, volumes };
}

async function tarOf(entries: [string, Buffer][]): Promise<Buffer> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const tar = createTarWriter(out);
  for (const [name, data] of entries) await tar.addBuffer(name, data);
  await tar.finish();
  return Buffer.concat(parts);
}

test('every single-bit flip anywhere in a volume set is refused by bundle verify', async (t) => {
  const { dir, w, volumes } = await smallSet(t);
  const [ok] = await verifyBundles(w.files, silentReporter);
  assert.equal(ok!.verified.length, w.manifest.volumes, 'the intact set verifies');
  const total = volumes.reduce((n, v) => n + v.length, 0);
  let x = 0x9e3779b9;
  const rand = (n: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const file = join(dir, 'flipped.airlock');
  const accepted: string[] = [];
  const FLIPS = 1000;
  for (let i = 0; i < FLIPS; i++) {
    let at = rand(total * 8);
    let v = 0;
    while (at >= volumes[v]!.length * 8) at -= volumes[v++]!.length * 8;
    const copy = Buffer.from(volumes[v]!);
    copy[at >> 3] = copy[at >> 3]! ^ (1 << (at & 7));
    await writeFile(file, copy);
    const refused = await verifyBundles([file], silentReporter).then(
      () => false,
      () => true,
    );
    if (!refused) accepted.push(`volume ${v + 1} byte ${at >> 3} bit ${at & 7}`);
  }
  t.diagnostic(`${FLIPS} random flips over the whole set (${total} bytes): ${FLIPS - accepted.length} refused`);
  assert.deepEqual(accepted, [], 'flips that passed verify');
});

test('bytes after the end-of-archive marker are refused by verify and import, the store unchanged', async (t) => {
  const { dir, high, w, volumes } = await smallSet(t);
  const blob = bytes(4096, 9);
  const cases: [string, Buffer][] = [
    ['one-byte', Buffer.concat([volumes[0]!, Buffer.from([0])])],
    ['zero-block', Buffer.concat([volumes[0]!, Buffer.alloc(512)])],
    ['garbage', Buffer.concat([volumes[0]!, bytes(1 << 20, 5)])],
    ['second-tar', Buffer.concat([volumes[0]!, await tarOf([[`blobs/sha256/${'a'.repeat(64)}`, blob]])])],
  ];
  for (const [name, data] of cases) {
    const file = join(dir, `${name}.airlock`);
    await writeFile(file, data);
    await assert.rejects(verifyBundles([file], silentReporter), new RegExp(`${name}\\.airlock: .*after the end-of-archive marker`), name);
    const before = await storeSnapshot(high.home);
    await assert.rejects(importBundles(high, [file], silentReporter), /after the end-of-archive marker/, name);
    assert.equal(await storeSnapshot(high.home), before, `${name}: the store is unchanged`);
    assert.equal(importOutcomes(high.home).at(-1), 'refused');
  }
  const res = await importBundles(high, w.files, silentReporter);
  assert.equal(res.at(-1)!.outcome, 'imported', 'the intact set still imports');
});

test('every single-bit flip in index.json (its header, content and padding) is refused', async (t) => {
  const { w, volumes } = await smallSet(t);
  const v = volumes[0]!;
  const sink: BlobSink = { start: async () => true, open: async () => undefined };
  const read = (data: Buffer) => readVolume(Readable.from([data]), 'v.airlock', sink);
  await read(v);
  // The second and third blocks: index.json's header, then its content padded to a block.
  assert.equal(v.toString('latin1', 1024, 1034), 'index.json');
  const accepted: number[] = [];
  for (let bit = 1024 * 8; bit < 2048 * 8; bit++) {
    const copy = Buffer.from(v);
    copy[bit >> 3] = copy[bit >> 3]! ^ (1 << (bit & 7));
    if (
      await read(copy).then(
        () => true,
        () => false,
      )
    )
      accepted.push(bit);
  }
  assert.deepEqual(accepted, [], `bits of ${w.files[0]} accepted`);
});

/** A volume of the given raw manifest bytes: the writer's layout around whatever a forger put there. */
function forged(manifest: Buffer, volumes = 1): Promise<Buffer> {
  const id = digestOf(manifest);
  return craftTar([
    { name: 'oci-layout', data: Buffer.from(OCI_LAYOUT) },
    { name: 'index.json', data: Buffer.from(volumeIndex({ digest: id, size: manifest.length }, 1, volumes)) },
    { name: 'blobs/', type: 'directory' },
    { name: 'blobs/sha256/', type: 'directory' },
    { name: `blobs/sha256/${id.slice(7)}`, data: manifest },
  ]);
}

test('a 62 MB index.json of nested arrays is refused at once, without parsing it', async (t) => {
  const { dir } = await twoStores(t);
  const nested = Buffer.alloc(62_000_000, '[');
  // The writer's own head claiming the largest manifest allowed, then the arrays: hashed in passing, never built.
  const head = volumeIndexHead({ digest: `sha256:${'1'.repeat(64)}`, size: MAX_MANIFEST_BYTES }, 1, 1);
  for (const [name, index] of [
    ['garbage-head', nested],
    ['writer-head', Buffer.concat([Buffer.from(`${head},`), nested])],
  ] as const) {
    const file = join(dir, `${name}.airlock`);
    await writeFile(
      file,
      await craftTar([
        { name: 'oci-layout', data: Buffer.from(OCI_LAYOUT) },
        { name: 'index.json', data: index },
      ]),
    );
    const rss = process.memoryUsage().rss;
    const started = performance.now();
    await assert.rejects(
      verifyBundles([file], silentReporter),
      new RegExp(`${name}\\.airlock: (index\\.json is not the index airlock writes|archive ends before blobs/)`),
    );
    const ms = performance.now() - started;
    const grew = process.memoryUsage().rss - rss;
    t.diagnostic(`${name}: refused in ${ms.toFixed(0)} ms, RSS +${(grew / 2 ** 20).toFixed(0)} MiB`);
    assert.ok(ms < 1000, `${name}: refused in under a second (${ms} ms)`);
    assert.ok(grew < 100 * 2 ** 20, `${name}: RSS grew by less than 100 MiB`);
  }
});

test('with a trust policy, custody is judged on the bundle id before the manifest is parsed', async (t) => {
  const { dir, high } = await twoStores(t);
  const k = generateKey();
  await writeFile(join(dir, 'origin.pub'), k.publicPem);
  const yaml = 'keys:\n  origin: origin.pub\nroles:\n  origin: { keys: [origin], threshold: 1 }\nrules: { requireRoles: [origin] }\n';
  await setTrustPolicy(high.meta, canonicalJson(parseTrustPolicy(yaml, join(dir, 'trust.yaml'))), 'trust.yaml');
  const file = join(dir, 'unsigned.airlock');
  await writeFile(
    file,
    await forged(
      Buffer.from(
        '{"not": "a manifest", "deep": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}\n',
      ),
    ),
  );
  const before = await storeSnapshot(high.home);
  await assert.rejects(
    importBundles(high, [file], silentReporter),
    (e: Error & { code?: string }) => e.code === 'CUSTODY_REFUSED' && /unsigned\.airlock: custody/.test(e.message),
  );
  assert.equal(await storeSnapshot(high.home), before);
});

/** A one-artifact files manifest as the writer would serialize it, `metadata` and `key` as given. */
function manifestText(key: string, payload: Buffer, metadata: string): Buffer {
  const digest = digestOf(payload);
  const m = {
    mediaType: 'application/vnd.airlock.bundle.manifest.v1+json' as const,
    formatVersion: 1 as const,
    name: 'forged',
    sequence: 1,
    creator: 'mallory',
    target: { platforms: ['linux/amd64'], python: [] },
    lockDigest: digestOf('lock'),
    volumes: 1,
    artifacts: [
      {
        ecosystem: 'files',
        key,
        name: key,
        version: '',
        digest,
        size: payload.length,
        metadata: { x: 'PLACEHOLDER' },
        blobs: [{ digest, size: payload.length }],
      },
    ],
    blobs: [{ digest, size: payload.length, volume: 1 }],
  };
  return Buffer.from(serializeManifest(m).replace('"PLACEHOLDER"', metadata));
}

async function forgedBundle(file: string, manifest: Buffer, payload: Buffer): Promise<void> {
  const head = await forged(manifest);
  const tail = await craftTar([{ name: `blobs/sha256/${digestOf(payload).slice(7)}`, data: payload }]);
  // Both halves end in the end-of-archive blocks: the bundle has them once, after its last blob.
  await writeFile(file, Buffer.concat([head.subarray(0, head.length - 1024), tail]));
}

/** Refused by bundle verify and by import with the same message, and the store unchanged. */
async function refusedEverywhere(high: Store, file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(verifyBundles([file], silentReporter), pattern, 'bundle verify');
  const before = await storeSnapshot(high.home);
  await assert.rejects(importBundles(high, [file], silentReporter), pattern, 'import');
  assert.equal(await storeSnapshot(high.home), before, 'the store is unchanged');
  assert.deepEqual(await readdir(join(high.home, 'staging')).catch(() => []), [], 'nothing left in staging');
}

test('a manifest nested thousands deep is refused by verify and import alike, nothing staged', async (t) => {
  const { dir, high } = await twoStores(t);
  const payload = Buffer.from('alpha\n');
  const file = join(dir, 'deep.airlock');
  await forgedBundle(file, manifestText('a.txt', payload, `${'['.repeat(4400)}${']'.repeat(4400)}`), payload);
  await refusedEverywhere(high, file, /deep\.airlock: the bundle manifest is nested deeper than \d+ levels/);
  const ok = join(dir, 'shallow.airlock');
  await forgedBundle(ok, manifestText('a.txt', payload, '[[1]]'), payload);
  const [r] = await importBundles(high, [ok], silentReporter);
  assert.equal(r!.outcome, 'imported', 'the same bundle with shallow metadata imports');
});

test('a files artifact whose key is not a served path is refused by verify and import, naming it', async (t) => {
  const { dir, high } = await twoStores(t);
  const payload = Buffer.from('evil\n');
  const cases: [string, string, RegExp][] = [
    [
      'dotdot',
      '../../EVIL_KEY',
      /dotdot\.airlock: bundle manifest artifact files:\.\.\/\.\.\/EVIL_KEY: key has an empty, '\.' or '\.\.' segment/,
    ],
    ['absolute', '/abs/EVIL_KEY2', /absolute\.airlock: bundle manifest artifact files:\/abs\/EVIL_KEY2: key must be relative/],
    ['backslash', 'a\\b', /backslash\.airlock: bundle manifest artifact files:a\\b: key must use \//],
  ];
  for (const [name, key, pattern] of cases) {
    const file = join(dir, `${name}.airlock`);
    await forgedBundle(file, manifestText(key, payload, '{}'), payload);
    await refusedEverywhere(high, file, pattern);
  }
  assert.deepEqual(await high.meta.listArtifacts(), []);
});
