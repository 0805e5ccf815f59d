import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { eachBounded } from '../../src/core/bounded.js';

test('eachBounded: never more than the limit pending, pulls lazily, passes positions', async () => {
  let pending = 0;
  let most = 0;
  let pulled = 0;
  async function* items() {
    for (let i = 0; i < 20; i++) {
      pulled++;
      yield i;
    }
  }
  const seen: [number, number][] = [];
  await eachBounded(items(), 3, async (item, at) => {
    pending++;
    most = Math.max(most, pending);
    assert.ok(pulled - seen.length <= 3 + 1, 'items are pulled only as slots free');
    await tick();
    seen.push([item, at]);
    pending--;
  });
  assert.equal(most, 3);
  assert.deepEqual(
    seen.sort((a, b) => a[0] - b[0]),
    Array.from({ length: 20 }, (_, i) => [i, i]),
  );
});

test('eachBounded: the first failure is thrown after the pending calls settle, and pulling stops', async () => {
  const settled: number[] = [];
  await assert.rejects(
    eachBounded([0, 1, 2, 3, 4, 5, 6, 7], 3, async (i) => {
      await tick();
      if (i === 1) throw new Error('one failed');
      await tick();
      settled.push(i);
    }),
    /one failed/,
  );
  assert.deepEqual(settled.sort(), [0, 2], 'the calls already started finish first; none starts after the failure');
});
