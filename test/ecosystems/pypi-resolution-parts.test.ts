import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { evaluateMarker, parseMarker } from '../../src/ecosystems/pypi/markers.js';
import { parseRequirement } from '../../src/ecosystems/pypi/requirement.js';
import { type Candidate, type Provider, resolveRequirements } from '../../src/ecosystems/pypi/solver.js';
import { contains } from '../../src/ecosystems/pypi/specifiers.js';
import { fileCheck, listMisfits } from '../../src/ecosystems/pypi/fit.js';
import type { IndexFile } from '../../src/ecosystems/pypi/index-client.js';
import {
  type PythonTarget,
  describeTarget,
  markerEnvironment,
  supportedTags,
  wheelRank,
  wheelTags,
} from '../../src/ecosystems/pypi/tags.js';

const fixture = async (name: string): Promise<string[]> =>
  (await readFile(fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url)), 'utf8')).trim().split('\n');

// The fixtures are packaging's own output (pip's vendored packaging: cpython_tags +
// compatible_tags) for the same interpreter and platforms: the order must match exactly.
test("supported tags equal packaging's for glibc, musl, aarch64 and Windows targets", async () => {
  assert.deepEqual(
    supportedTags({ platform: 'linux/amd64', python: '3.11', libc: 'glibc-2.28' }),
    await fixture('tags-cp311-glibc-2.28-x86_64.txt'),
  );
  assert.deepEqual(
    supportedTags({ platform: 'linux/arm64', python: '3.12', libc: 'glibc-2.28' }),
    await fixture('tags-cp312-glibc-2.28-aarch64.txt'),
  );
  assert.deepEqual(
    supportedTags({ platform: 'linux/amd64', python: '3.10', libc: 'musl-1.2' }),
    await fixture('tags-cp310-musl-1.2-x86_64.txt'),
  );
  assert.deepEqual(supportedTags({ platform: 'windows/amd64', python: '3.11' }), await fixture('tags-cp311-win_amd64.txt'));
});

test('wheel tags expand compressed sets and rank by the target', () => {
  assert.deepEqual(wheelTags('six-1.16.0-py2.py3-none-any.whl'), ['py2-none-any', 'py3-none-any']);
  const ranks = new Map(supportedTags({ platform: 'linux/arm64', python: '3.12', libc: 'glibc-2.28' }).map((t, i) => [t, i]));
  const native = wheelRank('numpy-2.0.0-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl', ranks);
  const pure = wheelRank('numpy-2.0.0-py3-none-any.whl', ranks);
  assert.ok(native !== undefined && pure !== undefined && native < pure);
  assert.equal(wheelRank('numpy-2.0.0-cp312-cp312-manylinux_2_17_x86_64.whl', ranks), undefined);
  assert.equal(wheelRank('numpy-2.0.0-cp312-cp312-manylinux_2_31_aarch64.whl', ranks), undefined, 'newer glibc than the target');
  assert.equal(wheelRank('numpy-2.0.0-cp311-cp311-manylinux_2_17_aarch64.whl', ranks), undefined, 'another CPython ABI');
  assert.ok(wheelRank('x-1.0-cp38-abi3-manylinux_2_17_aarch64.whl', ranks) !== undefined, 'abi3 from an older CPython');
});

const linux311 = markerEnvironment({ platform: 'linux/amd64', python: '3.11' });
const win312 = markerEnvironment({ platform: 'windows/arm64', python: '3.12.4' });
const holds = (m: string, env = linux311, extras: string[] = []) => evaluateMarker(parseMarker(m), env, extras);

test('markers evaluate for the target, never for this machine', () => {
  assert.equal(linux311.platform_machine, 'x86_64');
  assert.equal(win312.sys_platform, 'win32');
  assert.equal(win312.platform_machine, 'ARM64');
  assert.ok(holds('python_version >= "3.8"'));
  assert.ok(!holds('python_version < "3"'));
  assert.ok(holds('python_version > "3.9" and python_version < "3.12"'));
  assert.ok(!holds('python_version > "3.9" and python_version < "3.12"', win312));
  assert.ok(holds('sys_platform == "linux" and (platform_machine == "x86_64" or platform_machine == "aarch64")'));
  assert.ok(holds('os_name == "nt" and platform_machine == "ARM64"', win312));
  assert.ok(holds('"linux" in sys_platform'));
  assert.ok(holds('sys_platform not in "win32 cygwin"'));
  assert.ok(!holds('python_full_version >= "3.11.4"'), 'an unpatched target is X.Y.0');
  assert.ok(holds('python_full_version >= "3.12.4"', win312));
  assert.ok(holds('platform_python_implementation != "PyPy" and implementation_name == "cpython"'));
  assert.ok(holds("os.name == 'posix'"), 'legacy PEP 345 names');
  assert.ok(holds('python_version ~= "3.10"'));
  assert.ok(!holds('os_name < "posix"'), 'ordering on non-versions is false');
  assert.ok(holds('"3.11" == python_version'));
});

test('extra markers follow the extras being installed, names normalised', () => {
  assert.ok(!holds('extra == "socks"'));
  assert.ok(holds('extra == "socks"', linux311, ['socks']));
  assert.ok(holds('extra == "Security_Feature"', linux311, ['security-feature']));
  assert.ok(holds('extra == "socks" and python_version >= "3.8"', linux311, ['tests', 'socks']));
  assert.ok(!holds('extra != "socks"', linux311, ['socks']));
});

test('bad markers are errors that quote the marker', () => {
  assert.throws(() => parseMarker('python_version >= 3.8'), /"3\.8" is not a marker variable|3\.8/);
  assert.throws(() => parseMarker('foo == "x"'), /"foo" is not a marker variable/);
  assert.throws(() => parseMarker('python_version >='), /ends early/);
  assert.throws(() => parseMarker('(python_version >= "3"'), /missing "\)"|ends early/);
  assert.throws(() => parseMarker('python_version >= "3" xor os_name == "nt"'), /unexpected "xor"/);
});

test('PEP 508 requirements', () => {
  assert.deepEqual(parseRequirement('requests[socks]'), { name: 'requests', extras: ['socks'], specifier: '' });
  const torch = parseRequirement("torch==2.4.*; sys_platform == 'linux'");
  assert.equal(torch.specifier, '==2.4.*');
  assert.ok(torch.marker && evaluateMarker(torch.marker, linux311));
  assert.deepEqual(parseRequirement('Foo.Bar (>=1.0, <2)'), { name: 'foo-bar', extras: [], specifier: '>=1.0,<2' });
  const url = parseRequirement('pkg @ https://example.invalid/pkg-1.0-py3-none-any.whl ; python_version >= "3"');
  assert.equal(url.url, 'https://example.invalid/pkg-1.0-py3-none-any.whl');
  assert.ok(url.marker);
  assert.deepEqual(parseRequirement('transformers >= 4.40').specifier, '>=4.40');
  assert.throws(() => parseRequirement('>=1.0'), /expected a project name/);
  assert.throws(() => parseRequirement('foo >=bogus'), /not a PEP 440 version specifier/);
  assert.throws(() => parseRequirement('foo; python_version >= 3'), /foo; python_version >= 3/);
});

// Cases from PEP 440's text and packaging's specifier tests: version, specifier, matches.
const SPECIFIER_VECTORS: [string, string, boolean][] = [
  ['2.0', '==2', true],
  ['2.0', '==2.0.0', true],
  ['2.1', '==2.*', true],
  ['3.0', '==2.*', false],
  ['1.0+local', '==1.0', true],
  ['1.0+local', '==1.0+local', true],
  ['1.0', '==1.0+local', false],
  ['1.0.post1', '>1.0', false],
  ['1.0.post1', '>=1.0', true],
  ['1.1.post1', '>1.1.post0', true],
  ['1.7.1', '>1.7', true],
  ['1.7.0.post1', '>1.7', false],
  ['1.1a1', '<1.1', false],
  ['1.0', '<1.1', true],
  ['1.0.dev1', '<1.0', false],
  ['1.4.5', '~=1.4.2', true],
  ['1.5', '~=1.4.2', false],
  ['2.0', '~=1.4', false],
  ['1.9', '~=1.4', true],
  ['1.0', '!=1.0.*', false],
  ['1.1', '!=1.0.*', true],
  ['2.0', '===2.0', true],
  ['2.0.0', '===2.0', false],
  ['1!1.0', '>=2.0', true],
  ['1.0', '>=1.0,<2.0,!=1.5', true],
  ['1.5', '>=1.0,<2.0,!=1.5', false],
];

test('PEP 440 specifiers match as packaging matches them', () => {
  for (const [version, spec, expected] of SPECIFIER_VECTORS) {
    assert.equal(contains(version, spec, { prereleases: true }), expected, `${version} in ${spec}`);
  }
  assert.equal(contains('2.0b1', '>=1.0', { prereleases: false }), false);
  assert.equal(contains('1.2.post1', '>1.2.post0', { prereleases: false }), true);
  assert.equal(contains('1.3.dev1', '>1.2.post0', { prereleases: false }), false);
});

const glibc217 = { platform: 'linux/amd64', python: '3.11' };
const file = (filename: string, extra: Partial<IndexFile> = {}): IndexFile => ({
  filename,
  url: `https://files.invalid/${filename}`,
  yanked: false,
  coreMetadata: false,
  ...extra,
});
const why = (
  filename: string,
  t: PythonTarget = glibc217,
  extra: Partial<IndexFile> = {},
  sdists: 'never' | 'fallback' = 'fallback',
  hashes?: Set<string>,
) => fileCheck(t, sdists).why(file(filename, extra), hashes)?.reason;

test('a file that does not fit the target says why: Python, ABI, OS, architecture, libc, policy', () => {
  assert.equal(describeTarget(glibc217), 'linux/amd64 python 3.11 glibc-2.17', 'the default libc is named');
  assert.equal(describeTarget({ platform: 'darwin/arm64', python: '3.12' }), 'darwin/arm64 python 3.12');
  assert.equal(why('native-1.0-cp311-cp311-manylinux_2_17_x86_64.whl'), undefined);
  assert.equal(why('native-1.0-py3-none-any.whl'), undefined);
  assert.equal(why('native-1.0-cp312-cp312-manylinux_2_17_x86_64.whl'), 'is for CPython 3.12');
  assert.equal(why('native-1.0-cp312-abi3-manylinux_2_17_x86_64.whl'), 'needs CPython >= 3.12 (abi3)');
  assert.equal(why('native-1.0-py2-none-any.whl'), 'is for Python 2');
  assert.equal(why('native-1.0-pp310-pypy310_pp73-manylinux_2_17_x86_64.whl'), 'is for PyPy 3.10, not CPython');
  assert.equal(why('native-1.0-cp311-cp311d-manylinux_2_17_x86_64.whl'), 'has ABI cp311d (the target takes cp311, abi3 or none)');
  assert.equal(why('native-1.0-cp311-cp311-macosx_11_0_arm64.whl'), 'is for macOS arm64');
  assert.equal(why('native-1.0-cp311-cp311-win_amd64.whl'), 'is for Windows amd64');
  assert.equal(why('native-1.0-cp311-cp311-manylinux_2_17_aarch64.whl'), 'is for Linux aarch64');
  assert.equal(why('native-1.0-cp311-cp311-win32.whl', { platform: 'windows/amd64', python: '3.11' }), 'is for Windows x86');
  assert.equal(
    why('native-1.0-cp311-cp311-macosx_14_0_arm64.whl', { platform: 'darwin/arm64', python: '3.11' }),
    "needs macOS >= 14.0 (airlock's darwin/arm64 target is macOS 11.0)",
  );
  assert.equal(why('native-1.0-cp311-cp311-macosx_11_0_x86_64.whl', { platform: 'darwin/arm64', python: '3.11' }), 'is for macOS x86_64');
  assert.equal(
    why('native-1.0-cp311-cp311-manylinux_2_28_x86_64.whl'),
    'needs glibc >= 2.28 (the target is glibc 2.17, the default — set target.libc: glibc-2.28)',
  );
  assert.equal(
    why('native-1.0-cp311-cp311-manylinux_2_34_x86_64.whl', { ...glibc217, libc: 'glibc-2.28' }),
    'needs glibc >= 2.34 (the target is glibc 2.28 — set target.libc: glibc-2.34)',
  );
  assert.equal(
    why('native-1.0-cp311-cp311-musllinux_1_2_x86_64.whl'),
    'is musllinux, needs musl >= 1.2 (the target is glibc 2.17, the default — set target.libc: musl-1.2)',
  );
  assert.equal(
    why('native-1.0-cp311-cp311-manylinux2014_x86_64.whl', { ...glibc217, libc: 'musl-1.1' }),
    'is manylinux, needs glibc >= 2.17 (the target is musl 1.1 — set target.libc: glibc-2.17)',
  );
  assert.equal(
    why('native-1.0-cp311-cp311-musllinux_1_2_x86_64.whl', { ...glibc217, libc: 'musl-1.1' }),
    'needs musl >= 1.2 (the target is musl 1.1 — set target.libc: musl-1.2)',
  );
  assert.equal(why('native-1.0-cp312-cp312-macosx_11_0_arm64.whl'), 'is for macOS arm64 and is for CPython 3.12');
  assert.equal(why('native-1.0-py3-none-any.whl', glibc217, { requiresPython: '>=3.12' }), 'requires Python >=3.12 (the target is 3.11.0)');
  assert.equal(
    why('native-1.0-py3-none-any.whl', glibc217, { yanked: 'broken build' }),
    undefined,
    "PEP 592 is the resolver's: it depends on the requirement",
  );
  assert.equal(
    why('native-1.0-py3-none-any.whl', glibc217, { sha256: 'a'.repeat(64) }, 'fallback', new Set(['b'.repeat(64)])),
    'is not one of the --hash pins',
  );
  assert.equal(why('native-1.0.tar.gz', glibc217, {}, 'never'), 'is an sdist and sdists: never (set pypi.sdists: fallback to take it)');
  assert.equal(why('native-1.0.tar.gz'), undefined);
  const check = fileCheck(glibc217, 'never');
  for (const f of [
    'native-1.0-cp311-cp311-manylinux_2_17_x86_64.whl',
    'native-1.0-cp311-cp311-manylinux_2_28_x86_64.whl',
    'native-1.0.tar.gz',
    'native-1.0-py3-none-any.whl',
  ]) {
    assert.equal(check.fits(file(f)), check.why(file(f)) === undefined, `${f}: fits and why agree`);
  }
});

test('misfits are listed nearest first, at most three, on one line', () => {
  const target = glibc217;
  const files = [
    'native-1.0-cp311-cp311-win_amd64.whl',
    'native-1.0-cp311-cp311-macosx_11_0_arm64.whl',
    'native-1.0.tar.gz',
    'native-1.0-cp312-cp312-manylinux_2_28_x86_64.whl',
    'native-1.0-cp311-cp311-manylinux_2_28_x86_64.whl',
  ].map((filename) => fileCheck(target, 'never').why(file(filename))!);
  assert.equal(
    listMisfits(files),
    'native-1.0-cp311-cp311-manylinux_2_28_x86_64.whl needs glibc >= 2.28 (the target is glibc 2.17, the default — set target.libc: glibc-2.28); ' +
      'native-1.0-cp312-cp312-manylinux_2_28_x86_64.whl needs glibc >= 2.28 (the target is glibc 2.17, the default — set target.libc: glibc-2.28) and is for CPython 3.12; ' +
      'native-1.0.tar.gz is an sdist and sdists: never (set pypi.sdists: fallback to take it); and 2 more',
  );
  assert.equal(
    listMisfits(files.slice(0, 2)),
    'native-1.0-cp311-cp311-macosx_11_0_arm64.whl is for macOS arm64; native-1.0-cp311-cp311-win_amd64.whl is for Windows amd64',
  );
});

test('a version refused only for being yanked is named as such', async () => {
  const cands: Candidate<string>[] = [
    { name: 'native', version: '2.0', file: 'native-2.0-py3-none-any.whl', yanked: true },
    { name: 'native', version: '1.0', file: 'native-1.0-py3-none-any.whl', yanked: false },
  ];
  const provider: Provider<string> = {
    candidates: async () => cands,
    dependencies: async () => ({ requires: [], extras: [] }),
    unfit: async () => undefined,
  };
  const env = markerEnvironment(glibc217);
  await assert.rejects(
    resolveRequirements([parseRequirement('native>=2')], env, provider),
    (e: Error) =>
      e.message ===
      'no version of native satisfies native>=2 from root (available: 2.0, 1.0); native 2.0 is yanked (only an == pin takes it, PEP 592)',
  );
  assert.equal((await resolveRequirements([parseRequirement('native==2.0')], env, provider)).get('native')?.candidate.version, '2.0');
});
