import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { hexOf } from '../../src/core/digest.js';
import { silentReporter } from '../../src/core/report.js';
import type { Store } from '../../src/core/store.js';
import { createBundle } from '../../src/services/bundle.js';
import { abandonStaging, importBundles } from '../../src/services/import.js';
import { bytes, seedLock } from '../helpers/seed.js';
import { storeSnapshot } from '../helpers/snapshot.js';
import { twoStores } from '../helpers/stores.js';

const opts = { sequence: 1, creator: 'test@host', reporter: silentReporter };
const FILES = { 'a.bin': bytes(150_000, 1), 'b.bin': bytes(150_000, 2) };

async function twoVolumes(low: Store, dir: string): Promise<{ files: string[]; bundleId: `sha256:${string}` }> {
  const lock = await seedLock(low, FILES);
  const w = await createBundle(low, lock, { ...opts, out: join(dir, 's.airlock'), split: 200_000 });
  assert.equal(w.files.length, 2);
  return { files: w.files, bundleId: w.bundleId };
}

test('staged blobs lost after their volume was recorded: the commit re-opens that volume, and importing it again completes', async (t) => {
  const { dir, low, high } = await twoStores(t);
  const { files, bundleId } = await twoVolumes(low, dir);
  const [first] = await importBundles(high, [files[0]!], silentReporter);
  assert.equal(first!.outcome, 'staged');
  // What a power cut after the volume's row was written, but before the renames reached the disk, leaves.
  await rm(join(high.home, 'staging', hexOf(bundleId)), { recursive: true, force: true });

  const warnings: string[] = [];
  const [second] = await importBundles(high, [files[1]!], { ...silentReporter, warn: (m: string) => warnings.push(m) });
  assert.equal(second!.outcome, 'staged');
  assert.deepEqual(second!.missing, [1]);
  assert.match(warnings.join('\n'), /has disappeared; import volume\(s\) 1 again/);
  assert.deepEqual(await high.meta.receivedVolumes(bundleId), [2]);

  const [again] = await importBundles(high, [files[0]!], silentReporter);
  assert.equal(again!.outcome, 'imported');
  assert.deepEqual((await high.meta.listArtifacts()).map((a) => a.key).sort(), ['a.bin', 'b.bin']);
});

test('chunks of a large blob lost from staging: the commit re-opens the volumes that carried them', async (t) => {
  const { dir, low, high } = await twoStores(t);
  const lock = await seedLock(low, { 'big.bin': bytes(500_000, 3) });
  const w = await createBundle(low, lock, { ...opts, out: join(dir, 'big.airlock'), split: 200_000 });
  assert.equal(w.files.length, 3);
  await importBundles(high, w.files.slice(0, 2), silentReporter);
  await rm(join(high.home, 'staging', hexOf(w.bundleId)), { recursive: true, force: true });

  const [last] = await importBundles(high, [w.files[2]!], silentReporter);
  assert.equal(last!.outcome, 'staged');
  assert.deepEqual(last!.missing, [1, 2]);
  const done = await importBundles(high, w.files.slice(0, 2), silentReporter);
  assert.equal(done.at(-1)!.outcome, 'imported');
  assert.deepEqual(
    (await high.meta.listArtifacts()).map((a) => a.key),
    ['big.bin'],
  );
});

test('a power cut took the staged files of a recorded volume: re-running the import with all the volumes completes', async (t) => {
  const { dir, low, high } = await twoStores(t);
  const { files, bundleId } = await twoVolumes(low, dir);
  await importBundles(high, [files[0]!], silentReporter);
  await rm(join(high.home, 'staging', hexOf(bundleId)), { recursive: true, force: true });

  const warnings: string[] = [];
  const res = await importBundles(high, files, { ...silentReporter, warn: (m: string) => warnings.push(m) });
  assert.deepEqual(
    res.map((r) => r.outcome),
    ['staged', 'imported'],
  );
  assert.match(warnings.join('\n'), /volume 1 of bundle test was received but its staged blobs are gone; reading it again/);
  assert.deepEqual((await high.meta.listArtifacts()).map((a) => a.key).sort(), ['a.bin', 'b.bin']);
  assert.deepEqual(await readdir(join(high.home, 'staging')), []);
});

test('import --abandon drops a staging set: its files and rows go, the rest of the store stays, and it is audited', async (t) => {
  const { dir, low, high } = await twoStores(t);
  const { files, bundleId } = await twoVolumes(low, dir);
  const before = await storeSnapshot(high.home);
  await importBundles(high, [files[0]!], silentReporter);
  assert.notEqual(await storeSnapshot(high.home), before);

  const res = await abandonStaging(high, files[0]!);
  assert.deepEqual(res, { bundleId, name: 'test', volumes: [1] });
  assert.equal(await storeSnapshot(high.home), before, 'the store is as it was before the volume came');
  assert.deepEqual(await readdir(join(high.home, 'staging')), []);
  const last = (await high.meta.listAudit()).at(-1)!;
  assert.equal(last.action, 'import.abandon');
  assert.equal(last.outcome, 'abandoned');
  assert.match(last.subject, new RegExp(hexOf(bundleId)));

  await assert.rejects(abandonStaging(high, bundleId), /is not staged/);
  const done = await importBundles(high, files, silentReporter);
  assert.equal(done.at(-1)!.outcome, 'imported');
  await assert.rejects(abandonStaging(high, bundleId), /already imported/);
});

test("a volume's staged blobs are made durable before the database records the volume", async (t) => {
  const { dir, low, high } = await twoStores(t);
  const { files } = await twoVolumes(low, dir);
  const events: string[] = [];
  const staging = high.blobs.staging.bind(high.blobs);
  high.blobs.staging = async (area: string) => {
    const s = await staging(area);
    const durable = s.durable.bind(s);
    s.durable = async () => {
      await durable();
      events.push('durable');
    };
    return s;
  };
  const transaction = high.meta.transaction.bind(high.meta);
  high.meta.transaction = (fn) =>
    transaction((tx) => {
      const stageVolume = tx.stageVolume.bind(tx);
      tx.stageVolume = async (b, v) => {
        events.push(`recorded ${v}`);
        await stageVolume(b, v);
      };
      return fn(tx);
    });
  await importBundles(high, [files[0]!], silentReporter);
  assert.deepEqual(events, ['durable', 'recorded 1']);
});
