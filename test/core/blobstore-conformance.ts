import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { type BlobStore, readBlobBytes } from '../../src/core/blobstore.js';
import { type Digest, digestOf, hexOf } from '../../src/core/digest.js';
import { isAirlockError } from '../../src/core/errors.js';

/**
 * What every `BlobStore` backend must do, after distribution's storage-driver test suite:
 * a new backend (an object store) runs this with its own `make` and passes it unchanged.
 * `make` returns an empty store of its own for each test.
 */
export function blobStoreConformance(name: string, make: () => Promise<BlobStore>): void {
  describe(`BlobStore conformance: ${name}`, () => {
    test('put then open, stat and ranges give back the exact bytes', async () => {
      const s = await make();
      const data = pattern(300_000, 1);
      const info = await s.put(Readable.from(chunksOf(data, 65_536)), 'round trip', { digest: digestOf(data), size: data.length });
      assert.deepEqual(info, { digest: digestOf(data), size: data.length });
      assert.deepEqual(await s.stat(info.digest), info);
      assert.ok((await readBlobBytes(s, info.digest)).equals(data));
      assert.ok((await readBlobBytes(s, info.digest, { start: 1000, end: 199_999 })).equals(data.subarray(1000, 200_000)));
      assert.ok((await readBlobBytes(s, info.digest, { start: data.length - 1, end: data.length - 1 })).equals(data.subarray(-1)));
      if (s.pump) {
        const got: Buffer[] = [];
        // The buffer is the store's to reuse once the promise settles: copy it out first.
        await s.pump(info.digest, { start: 7, end: 250_006 }, async (c) => void got.push(Buffer.from(c)));
        assert.ok(Buffer.concat(got).equals(data.subarray(7, 250_007)));
      }
    });

    test('the empty blob is a blob like any other', async () => {
      const s = await make();
      const info = await s.put(Readable.from([]), 'empty');
      assert.deepEqual(info, { digest: digestOf(''), size: 0 });
      assert.equal((await readBlobBytes(s, info.digest)).length, 0);
    });

    test('writing the same bytes again is a no-op that succeeds', async () => {
      const s = await make();
      const data = pattern(10_000, 2);
      const a = await s.put(Readable.from([data]), 'first');
      const b = await s.put(Readable.from(chunksOf(data, 999)), 'second', { digest: a.digest });
      assert.deepEqual(a, b);
      assert.deepEqual(await listed(s), [a.digest]);
      assert.ok((await readBlobBytes(s, a.digest)).equals(data));
    });

    test('a digest or size mismatch is refused, naming the artifact, and leaves nothing behind', async () => {
      const s = await make();
      const data = pattern(50_000, 3);
      const wrong = digestOf('something else');
      await assert.rejects(s.put(Readable.from([data]), 'files:x.bin', { digest: wrong }), (e: unknown) => {
        assert.ok(isAirlockError(e) && e.code === 'DIGEST_MISMATCH');
        assert.match(e.message, /^files:x\.bin: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}$/);
        return true;
      });
      await assert.rejects(
        s.put(Readable.from([data]), 'files:x.bin', { size: data.length + 1 }),
        (e: unknown) => isAirlockError(e) && e.code === 'SIZE_MISMATCH',
      );
      assert.equal(await s.stat(wrong), undefined);
      assert.equal(await s.stat(digestOf(data)), undefined);
      assert.deepEqual(await listed(s), []);
      assert.deepEqual(await readdir(await s.tempDir()), []);
    });

    test('a writer whose source fails midway leaves no blob and no temp file', async () => {
      const s = await make();
      const data = pattern(200_000, 4);
      const failing = Readable.from(
        (async function* () {
          yield data.subarray(0, 100_000);
          throw new Error('the source went away');
        })(),
      );
      await assert.rejects(s.put(failing, 'aborted', { digest: digestOf(data) }), /the source went away/);
      assert.equal(await s.stat(digestOf(data)), undefined);
      assert.deepEqual(await listed(s), []);
      assert.deepEqual(await readdir(await s.tempDir()), []);
    });

    test('concurrent writers of the same blob all succeed, and one blob results', async () => {
      const s = await make();
      const data = pattern(3 << 20, 5);
      const digest = digestOf(data);
      const writers = Array.from({ length: 6 }, (_, i) =>
        s.put(Readable.from(chunksOf(data, 100_000 + i * 7_919)), `writer ${i}`, { digest }),
      );
      for (const r of await Promise.all(writers)) assert.deepEqual(r, { digest, size: data.length });
      assert.deepEqual(await listed(s), [digest]);
      assert.ok((await readBlobBytes(s, digest)).equals(data));
      assert.deepEqual(await readdir(await s.tempDir()), []);
    });

    test('a 64 MiB stream goes in and comes out whole, generated and hashed as it flows', async () => {
      const s = await make();
      const size = 64 << 20;
      const expected = hashOf(generated(size, 6));
      const info = await s.put(Readable.from(generated(size, 6)), 'large', { digest: expected, size });
      assert.deepEqual(info, { digest: expected, size });
      const h = createHash('sha256');
      let n = 0;
      for await (const c of await s.open(expected)) {
        h.update(c as Buffer);
        n += (c as Buffer).length;
      }
      assert.equal(n, size);
      assert.equal(`sha256:${h.digest('hex')}`, expected);
    });

    test('a missing blob: stat says so, open and pump throw NOT_FOUND, delete is a no-op', async () => {
      const s = await make();
      const d = digestOf('never stored');
      assert.equal(await s.stat(d), undefined);
      await assert.rejects(s.open(d), (e: unknown) => isAirlockError(e) && e.code === 'NOT_FOUND' && e.message.includes(d));
      if (s.pump) {
        let writes = 0;
        await assert.rejects(
          s.pump(d, undefined, async () => void writes++),
          (e: unknown) => isAirlockError(e) && e.code === 'NOT_FOUND',
        );
        assert.equal(writes, 0);
      }
      await s.delete(d);
    });

    test('list names every blob once; delete removes exactly one', async () => {
      const s = await make();
      const blobs = [pattern(10, 7), pattern(20, 8), pattern(30, 9)];
      const digests: Digest[] = [];
      for (const b of blobs) digests.push((await s.put(Readable.from([b]), 'b')).digest);
      assert.deepEqual(await listed(s), [...digests].sort());
      await s.delete(digests[1]!);
      assert.equal(await s.stat(digests[1]!), undefined);
      await assert.rejects(s.open(digests[1]!), (e: unknown) => isAirlockError(e) && e.code === 'NOT_FOUND');
      assert.deepEqual(await listed(s), [digests[0]!, digests[2]!].sort());
      assert.ok((await readBlobBytes(s, digests[2]!)).equals(blobs[2]!));
    });

    test('adopt moves a verified file from tempDir in, and is idempotent', async () => {
      const s = await make();
      const data = pattern(5000, 10);
      const info = { digest: digestOf(data), size: data.length };
      for (const name of ['first', 'second']) {
        const file = join(await s.tempDir(), name);
        await writeFile(file, data);
        await s.adopt(file, info);
        assert.ok((await readBlobBytes(s, info.digest)).equals(data));
      }
      assert.deepEqual(await readdir(await s.tempDir()), [], 'the second copy is not left behind');
      assert.deepEqual(await listed(s), [info.digest]);
    });

    test('staging: a committed blob is staged, not stored, until adopted; an aborted one is neither', async () => {
      const s = await make();
      const area = await s.staging(hexOf(digestOf('bundle one')));
      const kept = pattern(70_000, 11);
      const dropped = pattern(70_000, 12);
      await stage(area, digestOf(kept), kept);
      const w = await s.staging(hexOf(digestOf('bundle one'))).then((a) => a.open(digestOf(dropped)));
      w.stream.write(dropped.subarray(0, 1000));
      await w.abort();
      assert.equal(await area.has(digestOf(kept)), true);
      assert.equal(await area.has(digestOf(dropped)), false);
      assert.equal(await s.stat(digestOf(kept)), undefined, 'a staged blob is not in the store');
      await area.durable();
      const again = await s.staging(hexOf(digestOf('bundle one')));
      assert.equal(await again.has(digestOf(kept)), true, 'what is staged outlives the handle');
      assert.equal(await again.has(digestOf(dropped)), false);
      assert.equal(await again.empty(), false);
      assert.deepEqual(await listed(s), []);

      const chunks: Buffer[] = [];
      for await (const c of again.read(digestOf(kept))) chunks.push(c as Buffer);
      assert.ok(Buffer.concat(chunks).equals(kept));

      const absent = { digest: digestOf('not staged'), size: 10 };
      assert.deepEqual(await again.adopt([{ digest: digestOf(kept), size: kept.length }, absent]), [absent.digest]);
      assert.ok((await readBlobBytes(s, digestOf(kept))).equals(kept));
      assert.equal(await again.has(digestOf(kept)), false, 'adopted means moved');
      assert.equal(await again.empty(), true);
    });

    test("staging: two bundles' areas are independent; discard drops one area whole", async () => {
      const s = await make();
      const one = hexOf(digestOf('bundle one'));
      const two = hexOf(digestOf('bundle two'));
      const a = await s.staging(one);
      const b = await s.staging(two);
      const shared = pattern(1000, 13);
      const onlyA = pattern(1000, 14);
      await stage(a, digestOf(shared), shared);
      await stage(a, digestOf(onlyA), onlyA);
      await stage(b, digestOf(shared), shared);
      assert.equal(await b.has(digestOf(onlyA)), false);
      assert.deepEqual((await s.stagingAreas()).sort(), [one, two].sort());

      await a.remove(digestOf(onlyA));
      assert.equal(await a.has(digestOf(onlyA)), false);
      await a.discard();
      assert.deepEqual(await s.stagingAreas(), [two]);
      assert.equal(await (await s.staging(one)).has(digestOf(shared)), false);
      assert.equal(await b.has(digestOf(shared)), true);
      assert.deepEqual(await b.adopt([{ digest: digestOf(shared), size: shared.length }]), []);
      assert.ok((await readBlobBytes(s, digestOf(shared))).equals(shared));
    });

    test('staging: blobs the store already holds are adopted whether staged or not', async () => {
      const s = await make();
      const data = pattern(4000, 15);
      const info = await s.put(Readable.from([data]), 'held');
      const area = await s.staging(hexOf(digestOf('bundle three')));
      assert.deepEqual(await area.adopt([info]), []);
      await stage(area, info.digest, data);
      assert.deepEqual(await area.adopt([info]), []);
      assert.deepEqual(await listed(s), [info.digest]);
      assert.ok((await readBlobBytes(s, info.digest)).equals(data));
    });

    test('uploads: appended pieces read back in order; commit makes the blob and ends the upload', async () => {
      const s = await make();
      const area = await s.uploads('oci');
      const data = pattern(250_000, 16);
      assert.equal(await area.size('u1'), undefined);
      await area.append('u1', Readable.from([data.subarray(0, 100_000)]));
      assert.equal(await area.size('u1'), 100_000);
      await area.append('u1', Readable.from(chunksOf(data.subarray(100_000), 30_000)));
      assert.equal(await area.size('u1'), data.length);
      const got: Buffer[] = [];
      for await (const c of area.read('u1')) got.push(c as Buffer);
      assert.ok(Buffer.concat(got).equals(data));
      assert.equal(await s.stat(digestOf(data)), undefined, 'an upload is not a blob');
      assert.deepEqual(await listed(s), []);

      await area.commit('u1', { digest: digestOf(data), size: data.length });
      assert.equal(await area.size('u1'), undefined);
      assert.ok((await readBlobBytes(s, digestOf(data))).equals(data));
      await area.append('u2', Readable.from([data]));
      await area.commit('u2', { digest: digestOf(data), size: data.length });
      assert.equal(await area.size('u2'), undefined, 'committing a blob the store holds still ends the upload');
      assert.deepEqual(await listed(s), [digestOf(data)]);
    });

    test('uploads: discard drops one upload; areas and ids are independent; sweep keeps live ones', async () => {
      const s = await make();
      const oci = await s.uploads('oci');
      const other = await s.uploads('other');
      await oci.append('a', Readable.from([Buffer.from('first')]));
      await oci.append('b', Readable.from([Buffer.from('second')]));
      await other.append('a', Readable.from([Buffer.from('elsewhere')]));
      await oci.discard('a');
      assert.equal(await oci.size('a'), undefined);
      assert.equal(await oci.size('b'), 6);
      assert.equal(await other.size('a'), 9);
      await oci.sweep(3600_000);
      assert.equal(await oci.size('b'), 6);
      await oci.discard('never-started');
      await assert.rejects(
        async () => oci.size('../escape'),
        (e: unknown) => isAirlockError(e) && e.code === 'INTERNAL',
      );
      assert.deepEqual(await listed(s), []);
    });
  });
}

async function stage(
  area: { open(d: Digest): Promise<{ stream: Writable; commit(): Promise<void> }> },
  digest: Digest,
  data: Buffer,
): Promise<void> {
  const w = await area.open(digest);
  w.stream.end(data);
  await finished(w.stream);
  await w.commit();
}

async function listed(s: BlobStore): Promise<Digest[]> {
  const out: Digest[] = [];
  for await (const d of s.list()) out.push(d);
  return out.sort();
}

/** Deterministic bytes, different per seed. */
function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function* chunksOf(data: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

/** `size` bytes made 1 MiB at a time, each chunk distinct: never whole in memory. */
function* generated(size: number, seed: number): Generator<Buffer> {
  const base = pattern(1 << 20, seed);
  for (let at = 0, i = 0; at < size; at += base.length, i++) {
    const c = Buffer.from(base.subarray(0, Math.min(base.length, size - at)));
    c.writeUInt32BE(i, 0);
    yield c;
  }
}

function hashOf(chunks: Iterable<Buffer>): Digest {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return `sha256:${h.digest('hex')}`;
}
