import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arrayElements, isJsonText, objectMembers, parseSpan, topValue } from '../../src/bundle/json-scan.js';

const accepts = (text: string | Buffer): boolean => {
  try {
    JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
    return true;
  } catch {
    return false;
  }
};

/** Inputs where a hand-written scanner and JSON.parse are most likely to part ways. */
const TRICKY = [
  '0',
  '-0',
  '01',
  '-',
  '1.',
  '.5',
  '1.5e',
  '1e+',
  '1E-2',
  '1e5',
  '-1.25e+10',
  '2.',
  '00',
  '-01',
  '1_000',
  '0x10',
  'Infinity',
  'NaN',
  'true',
  'tru',
  'truex',
  'null',
  'nul',
  'false',
  'False',
  '""',
  '"a',
  '"\\u00zz"',
  '"\\u00e9"',
  '"\\/"',
  '"\\a"',
  '"\\x41"',
  '"tab\there"',
  '"nl\nhere"',
  '"\\ud800"',
  '"é"',
  '[]',
  '[,]',
  '[1,]',
  '[1 2]',
  '[[]]',
  '{}',
  '{,}',
  '{"a":1,}',
  '{"a" 1}',
  '{"a":}',
  '{a:1}',
  "{'a':1}",
  '{"a":1 "b":2}',
  '{"a":1}{',
  '[1]]',
  '{"__proto__":{"x":1}}',
  ' \t\r\n[1] \n',
  '\u00a0[1]',
  '\ufeff[1]',
  '[1]\u0000',
  '/*c*/[1]',
  '[1]//',
  '',
  ' ',
];

test('the manifest scanner accepts exactly what JSON.parse accepts (tricky inputs and random single-byte mutations)', () => {
  for (const text of TRICKY) {
    const b = Buffer.from(text);
    assert.equal(isJsonText(b), accepts(b), `${JSON.stringify(text)}: scanner ${isJsonText(b)}, JSON.parse ${accepts(b)}`);
  }
  const doc = Buffer.from(
    JSON.stringify({
      version: 1,
      name: 'x',
      artifacts: [{ key: 'a/b', n: -1.5e3, ok: true, none: null, s: 'é\\"\n', list: [1, [2, {}]] }],
      blobs: [],
    }),
  );
  let seed = 1;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const alphabet = Buffer.from('{}[],:"\\ -+.eE0123456789tfnulsra\tu\x00\xff');
  for (let i = 0; i < 20_000; i++) {
    const m = Buffer.from(doc);
    m[rand(m.length)] = alphabet[rand(alphabet.length)]!;
    assert.equal(isJsonText(m), accepts(m), `mutation ${i}: ${m.toString('latin1')}`);
  }
});

test('values found by position parse to what JSON.parse gives for the whole document', () => {
  const value = {
    artifacts: [
      { key: 'a', metadata: { x: [1, '2'] } },
      { key: 'b "quoted"', metadata: {} },
    ],
    name: 'n',
  };
  const b = Buffer.from(JSON.stringify(value, null, 2));
  assert.ok(isJsonText(b));
  const members = [...objectMembers(b, topValue(b))];
  assert.deepEqual(
    members.map((m) => parseSpan(b, m.key)),
    ['artifacts', 'name'],
  );
  const artifacts = members[0]!.value;
  assert.deepEqual(
    [...arrayElements(b, artifacts.start)].map((s) => parseSpan(b, s)),
    value.artifacts,
  );
});
