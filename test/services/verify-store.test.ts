import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import type { ArtifactRecord } from '../../src/core/artifact.js';
import type { BlobInfo } from '../../src/core/blobstore.js';
import type { Digest } from '../../src/core/digest.js';
import type { FsBlobStore } from '../../src/core/fs-blobstore.js';
import { silentReporter } from '../../src/core/report.js';
import { verifyStore } from '../../src/services/verify-store.js';
import { twoStores } from '../helpers/stores.js';
import { putArtifacts } from '../helpers/meta.js';

const file = (key: string, digest: Digest, size: number): ArtifactRecord => ({
  ecosystem: 'files',
  key,
  name: key,
  version: '',
  digest,
  size,
  metadata: {},
  blobs: [{ digest, size }],
});

test('verify hashes every blob, more than run at once, and names each problem in listing order', async (t) => {
  const { high: store } = await twoStores(t);
  const blobs: BlobInfo[] = [];
  for (let i = 0; i < 40; i++) blobs.push(await store.blobs.put(Readable.from([Buffer.alloc(100 + i * 1000, i)]), `b${i}`));
  const absent: Digest = `sha256:${'0'.repeat(64)}`;
  await putArtifacts(
    store.meta,
    [...blobs.map((b, i) => file(`b${String(i).padStart(2, '0')}`, b.digest, i === 7 ? b.size + 1 : b.size)), file('gone', absent, 5)],
    null,
  );
  const corrupted = [blobs[3]!, blobs[30]!];
  for (const b of corrupted) await writeFile((store.blobs as FsBlobStore).pathOf(b.digest), 'tampered');

  const r = await verifyStore(store, silentReporter);
  assert.equal(r.blobs, 40);
  assert.equal(r.references, 41);
  assert.equal(r.bytes, blobs.reduce((n, b) => n + b.size, 0) - corrupted.reduce((n, b) => n + b.size - 8, 0));
  const listed: Digest[] = [];
  for await (const d of store.blobs.list()) listed.push(d);
  const corruptFirst = [...corrupted].sort((a, b) => listed.indexOf(a.digest) - listed.indexOf(b.digest));
  assert.deepEqual(
    r.problems.map((p) => [p.kind, p.digest]),
    [
      ...corruptFirst.map((b) => ['corrupt-blob', b.digest]),
      ['wrong-size', blobs[3]!.digest],
      ['wrong-size', blobs[7]!.digest],
      ['wrong-size', blobs[30]!.digest],
      ['missing-blob', absent],
    ],
  );
  assert.match(
    r.problems.find((p) => p.kind === 'wrong-size' && p.digest === blobs[7]!.digest)!.detail,
    new RegExp(`^files:b07 says blob ${blobs[7]!.digest} has ${blobs[7]!.size + 1} bytes; it has ${blobs[7]!.size}$`),
  );
  assert.equal(r.problems.at(-1)!.detail, `files:gone needs blob ${absent}, which is missing`);
});

test('verify of a store whose blob cannot be read fails rather than reporting it clean', async (t) => {
  const { high: store } = await twoStores(t);
  for (let i = 0; i < 20; i++) await store.blobs.put(Readable.from([Buffer.alloc(10, i)]), `b${i}`);
  const fs = store.blobs as FsBlobStore;
  const pump = fs.pump.bind(fs);
  let n = 0;
  fs.pump = async (d, range, write) => {
    if (++n === 5) throw new Error(`cannot read ${d}`);
    return pump(d, range, write);
  };
  await assert.rejects(verifyStore(store, silentReporter), /^Error: cannot read sha256:/);
});
