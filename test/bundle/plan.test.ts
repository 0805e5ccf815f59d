import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chunkSizeFor, chunkSizes, entryCost, packItems } from '../../src/bundle/plan.js';
import { parseSize } from '../../src/bundle/size.js';
import type { Digest } from '../../src/core/digest.js';

const d = (c: string): Digest => `sha256:${c.repeat(64)}`;

test('parseSize: decimal for K/M/G, binary for Ki/Mi/Gi', () => {
  assert.equal(parseSize('700M', 'x'), 700_000_000);
  assert.equal(parseSize('4.7G', 'x'), 4_700_000_000);
  assert.equal(parseSize('25GiB', 'x'), 25 * 2 ** 30);
  assert.equal(parseSize('1024', 'x'), 1024);
  assert.throws(() => parseSize('12X', '--split'), /--split: "12X" is not a size/);
  assert.throws(() => parseSize('0', '--split'), /out of range/);
});

test('entryCost counts the header and pads to 512', () => {
  assert.equal(entryCost(0), 512);
  assert.equal(entryCost(1), 1024);
  assert.equal(entryCost(512), 1024);
  assert.equal(entryCost(513), 1536);
});

test('chunkSizes covers the blob exactly', () => {
  assert.deepEqual(chunkSizes(10, 4), [4, 4, 2]);
  assert.deepEqual(chunkSizes(8, 4), [4, 4]);
  assert.equal(chunkSizeFor(10 * 512), 9 * 512);
});

test('packItems: first-fit decreasing, deterministic, never over capacity', () => {
  const items = [
    { blob: d('a'), size: 3000 },
    { blob: d('b'), size: 1000 },
    { blob: d('c'), size: 3000 },
    { blob: d('e'), size: 500 },
  ];
  const cap = 4096;
  const r = packItems(items, cap);
  const used = new Map<number, number>();
  items.forEach((it, i) => used.set(r.volumes[i]!, (used.get(r.volumes[i]!) ?? 0) + entryCost(it.size)));
  for (const u of used.values()) assert.ok(u <= cap);
  assert.equal(r.count, used.size);
  assert.deepEqual(packItems(items, cap), r);
  assert.throws(() => packItems([{ blob: d('f'), size: 5000 }], cap), /does not fit/);
});
