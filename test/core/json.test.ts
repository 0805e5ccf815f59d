import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonLimitError, MAX_JSON_DEPTH, jsonDepth, parseJsonBounded } from '../../src/core/json.js';

test('jsonDepth counts arrays and objects, not brackets inside strings or after escapes', () => {
  assert.equal(jsonDepth('1'), 0);
  assert.equal(jsonDepth('{"a":[1,{"b":[]}]}'), 4);
  assert.equal(jsonDepth('{"a":"[[[[{{{{","b":"\\"[[["}'), 1);
  assert.equal(jsonDepth(Buffer.from('["ünï[cödé", {"ключ": [[]]}]')), 4);
});

test('parseJsonBounded refuses deep nesting before parsing, at any size', () => {
  const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
  assert.throws(
    () => parseJsonBounded(deep),
    (e) => e instanceof JsonLimitError && e.message === `nested deeper than ${MAX_JSON_DEPTH} levels`,
  );
  const edge = `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`;
  assert.deepEqual(jsonDepth(edge), MAX_JSON_DEPTH);
  assert.ok(Array.isArray(parseJsonBounded(edge)));
  assert.deepEqual(parseJsonBounded(Buffer.from('{"a":[1,2]}')), { a: [1, 2] });
  assert.throws(() => parseJsonBounded('{"a":'), SyntaxError);
});
