import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideRange } from '../../src/ecosystems/http/range.js';

const E = '"sha256:abc"';

test('Range decisions follow RFC 9110', () => {
  assert.deepEqual(decideRange({}, 100, E), { kind: 'full' });
  assert.deepEqual(decideRange({ range: 'bytes=0-9' }, 100, E), { kind: 'partial', start: 0, end: 9 });
  assert.deepEqual(decideRange({ range: 'bytes=90-' }, 100, E), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(decideRange({ range: 'bytes=50-500' }, 100, E), { kind: 'partial', start: 50, end: 99 });
  assert.deepEqual(decideRange({ range: 'bytes=-10' }, 100, E), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(decideRange({ range: 'bytes=-500' }, 100, E), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(decideRange({ range: 'bytes=100-' }, 100, E), { kind: 'unsatisfiable' });
  assert.deepEqual(decideRange({ range: 'bytes=-0' }, 100, E), { kind: 'unsatisfiable' });
  assert.deepEqual(decideRange({ range: 'bytes=0-' }, 0, E), { kind: 'unsatisfiable' });
  assert.deepEqual(decideRange({ range: 'bytes=9-3' }, 100, E), { kind: 'full' }, 'invalid ranges are ignored');
  assert.deepEqual(decideRange({ range: 'bytes=0-1,5-9' }, 100, E), { kind: 'full' }, 'multi-range gets the whole body');
  assert.deepEqual(decideRange({ range: 'items=0-1' }, 100, E), { kind: 'full' });
});

test('If-Range and If-None-Match', () => {
  assert.deepEqual(decideRange({ range: 'bytes=0-9', ifRange: E }, 100, E), { kind: 'partial', start: 0, end: 9 });
  assert.deepEqual(decideRange({ range: 'bytes=0-9', ifRange: '"other"' }, 100, E), { kind: 'full' });
  assert.deepEqual(decideRange({ ifNoneMatch: E }, 100, E), { kind: 'not-modified' });
  assert.deepEqual(decideRange({ ifNoneMatch: `"x", W/${E}` }, 100, E), { kind: 'not-modified' });
  assert.deepEqual(decideRange({ ifNoneMatch: '*' }, 100, E), { kind: 'not-modified' });
  assert.deepEqual(decideRange({ ifNoneMatch: '"x"', range: 'bytes=1-2' }, 100, E), { kind: 'partial', start: 1, end: 2 });
});
