import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PackedBytes } from '../../src/bundle/packed-bytes.js';
import { bytes } from '../helpers/seed.js';

const MiB = 1 << 20;

/** Text that deflates as a manifest does, with random bytes between so blocks differ. */
function sample(size: number): Buffer {
  const out = Buffer.alloc(size);
  const noise = bytes(size, 7);
  for (let i = 0; i < size; i++) out[i] = i % 97 < 80 ? 0x20 + (i % 64) : noise[i]!;
  return out;
}

test('ranges read back exactly, within a block, across one boundary and across several', () => {
  const raw = sample(3 * MiB + 12345);
  const packed = new PackedBytes(raw);
  assert.equal(packed.length, raw.length);
  assert.ok(packed.packedLength < raw.length / 2, `${packed.packedLength} bytes packed`);
  const read = packed.reader();
  const ranges: [number, number][] = [
    [0, 0],
    [0, 1],
    [10, 5000],
    [MiB - 3, MiB + 3],
    [MiB, MiB],
    [MiB - 1, MiB],
    [MiB, 2 * MiB],
    [100, 3 * MiB + 100],
    [raw.length - 7, raw.length],
  ];
  for (const [s, e] of ranges) assert.ok(read(s, e).equals(raw.subarray(s, e)), `bytes ${s}-${e}`);
  assert.ok(Buffer.concat([...packed.chunks()]).equals(raw));
});

test('two readers walking at once each keep their own block', () => {
  const raw = sample(2 * MiB + 10);
  const packed = new PackedBytes(raw);
  const a = packed.reader();
  const b = packed.reader();
  for (let at = 0; at + 100 < raw.length; at += 99_991) {
    const late = raw.length - 100 - at;
    assert.ok(a(at, at + 100).equals(raw.subarray(at, at + 100)));
    assert.ok(b(late, late + 100).equals(raw.subarray(late, late + 100)));
  }
});

test('an empty input packs to nothing, and a range outside the bytes is refused', () => {
  const empty = new PackedBytes(Buffer.alloc(0));
  assert.equal(empty.packedLength, 0);
  assert.deepEqual([...empty.chunks()], []);
  const read = new PackedBytes(Buffer.from('abc')).reader();
  assert.throws(() => read(2, 4), RangeError);
  assert.throws(() => read(2, 1), RangeError);
  assert.equal(read(1, 3).toString(), 'bc');
});
