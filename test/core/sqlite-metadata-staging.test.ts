import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Digest } from '../../src/core/digest.js';
import { audited } from '../../src/core/metadata.js';
import { SqliteMetadataStore } from '../../src/core/sqlite-metadata.js';
import { tempDir } from '../helpers/tmp.js';

const bundle = (n: number) => ({
  id: `sha256:${String(n).repeat(64)}` as Digest,
  name: `b${n}`,
  sequence: 1,
  creator: 'x@y',
  volumeCount: 3,
  artifactCount: 0,
  totalSize: 0,
});

test("re-opening and abandoning touch a staging bundle's rows only, never an imported bundle's", async (t) => {
  const meta = new SqliteMetadataStore(join(await tempDir(t), 'airlock.db'));
  t.after(() => meta.close());
  const [staging, other, imported] = [bundle(1), bundle(2), bundle(3)];
  const event = { actor: 'local:test', action: 'test.write', subject: 'bundles', outcome: 'written' };
  const reopen = (id: string, volumes: number[]) => meta.transaction((tx) => tx.reopenVolumes(id, volumes));
  const abandon = (id: string) => audited(meta, event, (tx, because) => tx.abandonBundle(id, because));
  for (const b of [staging, other, imported]) for (const v of [1, 2, 3]) await meta.transaction((tx) => tx.stageVolume(b, v));
  await audited(meta, event, (tx, because) => tx.commitBundle(imported.id, [], because));

  await reopen(staging.id, [1, 3]);
  assert.deepEqual(await meta.receivedVolumes(staging.id), [2]);
  await reopen(imported.id, [1]);
  assert.deepEqual(await meta.receivedVolumes(imported.id), [1, 2, 3]);

  await abandon(staging.id);
  assert.equal(await meta.getBundle(staging.id), undefined);
  assert.deepEqual(await meta.receivedVolumes(staging.id), []);
  await abandon(imported.id);
  assert.equal((await meta.getBundle(imported.id))?.status, 'imported');
  assert.deepEqual(await meta.receivedVolumes(imported.id), [1, 2, 3]);
  assert.deepEqual(await meta.receivedVolumes(other.id), [1, 2, 3]);
});
