import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type LockMarkerSets, type MarkerEnvironment, evaluateMarker, parseMarker } from '../../src/ecosystems/pypi/markers.js';

// Test vectors ported from pypa/packaging's tests/test_markers.py (the parser and evaluator
// pip uses). Python's repr quotes with single quotes, as below.

const VARIABLES = [
  'extra',
  'implementation_name',
  'implementation_version',
  'os_name',
  'platform_machine',
  'platform_release',
  'platform_system',
  'platform_version',
  'python_full_version',
  'python_version',
  'platform_python_implementation',
  'sys_platform',
];
const PEP_345_VARIABLES = ['os.name', 'sys.platform', 'platform.version', 'platform.machine', 'platform.python_implementation'];
const SETUPTOOLS_VARIABLES = ['python_implementation'];
const OPERATORS = ['===', '==', '>=', '<=', '!=', '~=', '>', '<', 'in', 'not in'];
const VALUES = ['1.0', '5.6a0', 'dog', 'freebsd', 'literally any string can go here', 'things @#4 dsfd ((('];

/** packaging's evaluate(environment): a partial environment, `extra` given as one string. */
function evaluate(marker: string, environment: Record<string, string> = {}, sets?: LockMarkerSets): boolean {
  const { extra, ...rest } = environment;
  return evaluateMarker(parseMarker(marker), rest as MarkerEnvironment, extra ? [extra] : [], sets);
}

test('packaging: every variable, operator and value parses, either way round', () => {
  for (const v of [...VARIABLES, ...PEP_345_VARIABLES, ...SETUPTOOLS_VARIABLES]) {
    for (const op of OPERATORS) {
      for (const value of VALUES) {
        assert.doesNotThrow(() => parseMarker(`${v} ${op} '${value}'`));
        assert.doesNotThrow(() => parseMarker(`'${value}' ${op} ${v}`));
      }
    }
  }
});

test('packaging: invalid markers are refused', () => {
  for (const bad of [
    "this_isnt_a_real_variable >= '1.0'",
    'python_version',
    '(python_version)',
    'python_version >= 1.0 and (python_version)',
    '(python_version == "2.7" and os_name == "linux"',
    '(python_version == "2.7") with random text',
    'os_name == "C:\\"',
    'os_name == "\\x"',
  ]) {
    assert.throws(() => parseMarker(bad), /marker|quoted string/, bad);
  }
});

test('packaging: operator evaluation', () => {
  assert.ok(evaluate('"2.7.9" < python_full_version', { python_full_version: '2.7.10' }), 'prefers PEP 440');
  assert.ok(!evaluate('"2.7.9" < python_full_version', { python_full_version: '2.7.8' }));
  // New string rules: ordering of strings that are not versions is false.
  assert.ok(!evaluate('"b" < python_full_version', { python_full_version: 'c' }));
  assert.ok(!evaluate('"b" < python_full_version', { python_full_version: 'a' }));
  assert.ok(!evaluate('"b" > "a"'));
  assert.ok(!evaluate('"b" < "a"'));
  assert.ok(!evaluate('"b" >= "a"'));
  assert.ok(!evaluate('"b" <= "a"'));
  assert.ok(evaluate('"a" <= "a"'));
  assert.throws(() => evaluate("'2.7.0' ~= os_name", { os_name: 'posix' }), /not versions/, 'undefined comparison');
  assert.ok(evaluate('python_full_version > "3.6.2"', { python_full_version: '3.11.0a5' }), 'allows prereleases');
});

test('packaging: evaluation', () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ["os_name == 'foo'", { os_name: 'foo' }, true],
    ["os_name == 'foo'", { os_name: 'bar' }, false],
    ["'2.7' in python_version", { python_version: '2.7.5' }, true],
    ["'2.7' not in python_version", { python_version: '2.7' }, false],
    ["os_name == 'foo' and python_version ~= '2.7.0'", { os_name: 'foo', python_version: '2.7.6' }, true],
    ["python_version ~= '2.7.0' and (os_name == 'foo' or os_name == 'bar')", { os_name: 'foo', python_version: '2.7.4' }, true],
    ["python_version ~= '2.7.0' and (os_name == 'foo' or os_name == 'bar')", { os_name: 'bar', python_version: '2.7.4' }, true],
    ["python_version ~= '2.7.0' and (os_name == 'foo' or os_name == 'bar')", { os_name: 'other', python_version: '2.7.4' }, false],
    ["extra == 'security'", { extra: 'quux' }, false],
    ["extra == 'security'", { extra: 'security' }, true],
    ["extra == 'SECURITY'", { extra: 'security' }, true],
    ["extra == 'security'", { extra: 'SECURITY' }, true],
    ["extra == 'pep-685-norm'", { extra: 'PEP_685...norm' }, true],
    ["extra == 'Different.punctuation..is...equal'", { extra: 'different__punctuation_is_EQUAL' }, true],
    // PEP 345 spellings.
    ["sys.platform == 'win32'", { sys_platform: 'linux2' }, false],
    ["platform.version in 'Ubuntu'", { platform_version: '#39' }, false],
    ["platform.machine=='x86_64'", { platform_machine: 'x86_64' }, true],
    ["platform.python_implementation=='Jython'", { platform_python_implementation: 'CPython' }, false],
    ["python_version == '2.5' and platform.python_implementation!= 'Jython'", { python_version: '2.7' }, false],
    ["python_implementation=='Jython'", { platform_python_implementation: 'CPython' }, false],
    // Extras are literal names even when they look like versions (packaging #938).
    ['extra == "v2"', {}, false],
    ['extra == "v2"', { extra: '' }, false],
    ['extra == "v2"', { extra: 'v2' }, true],
    ['extra == "v2"', { extra: 'v2a3' }, false],
    ['extra == "v2a3"', { extra: 'v2' }, false],
    ['extra == "v2a3"', { extra: 'v2a3' }, true],
    ['(extra == "Foo_Bar" or extra == "Baz") and python_version >= "3"', { extra: 'foo-bar', python_version: '3.12' }, true],
  ];
  for (const [marker, env, expected] of cases) assert.equal(evaluate(marker, env), expected, `${marker} with ${JSON.stringify(env)}`);
});

test('packaging: PEP 751 extras and dependency_groups, only in a lockfile', () => {
  for (const variable of ['extras', 'dependency_groups'] as const) {
    const sets: LockMarkerSets = { extras: [], dependency_groups: [], [variable]: ['foo', 'bar'] };
    const cases: [string, boolean][] = [
      ['"foo" in {0}', true],
      ['"bar" in {0}', true],
      ['"baz" in {0}', false],
      ['"baz" not in {0}', true],
      ['"foo" in {0} and "bar" in {0}', true],
      ['"foo" in {0} or "bar" in {0}', true],
      ['"baz" in {0} and "foo" in {0}', false],
      ['"foo" in {0} or "baz" in {0}', true],
      ['"Foo" in {0}', true],
    ];
    for (const [expression, expected] of cases) {
      const marker = expression.replaceAll('{0}', variable);
      assert.equal(evaluate(marker, {}, sets), expected, marker);
    }
    assert.throws(() => evaluate(`"foo" in ${variable}`), /only defined in a lockfile/);
  }
});
