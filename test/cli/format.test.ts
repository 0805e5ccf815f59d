import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes } from '../../src/cli/format.js';

test('formatBytes rounds fractional byte counts (rates) and keeps one decimal in larger units', () => {
  assert.equal(formatBytes(115.38461538461539), '115 B');
  assert.equal(formatBytes(0.4), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1.2 * 1024 * 1024 + 0.333), '1.2 MiB');
  assert.equal(formatBytes(3 * 1024 ** 3), '3.0 GiB');
});
