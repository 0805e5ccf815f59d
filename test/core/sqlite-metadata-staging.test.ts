import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Digest } from '../../src/core/digest.js';
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
  for (const b of [staging, other, imported]) for (const v of [1, 2, 3]) await meta.stageVolume(b, v);
  await meta.commitBundle(imported.id, []);

  await meta.reopenVolumes(staging.id, [1, 3]);
  assert.deepEqual(await meta.receivedVolumes(staging.id), [2]);
  await meta.reopenVolumes(imported.id, [1]);
  assert.deepEqual(await meta.receivedVolumes(imported.id), [1, 2, 3]);

  await meta.abandonBundle(staging.id);
  assert.equal(await meta.getBundle(staging.id), undefined);
  assert.deepEqual(await meta.receivedVolumes(staging.id), []);
  await meta.abandonBundle(imported.id);
  assert.equal((await meta.getBundle(imported.id))?.status, 'imported');
  assert.deepEqual(await meta.receivedVolumes(imported.id), [1, 2, 3]);
  assert.deepEqual(await meta.receivedVolumes(other.id), [1, 2, 3]);
});
