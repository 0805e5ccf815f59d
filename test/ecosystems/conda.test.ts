import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StoredArtifact } from '../../src/core/artifact.js';
import { channelName, channelUrl, parsePackageUrl } from '../../src/ecosystems/conda/channel.js';
import { condaEcosystem } from '../../src/ecosystems/conda/index.js';
import { parseEnvironmentFile } from '../../src/ecosystems/conda/environment-file.js';
import { parseExplicit } from '../../src/ecosystems/conda/explicit.js';
import { parseCondaLock } from '../../src/ecosystems/conda/lockfiles.js';
import { condaSubdirs, virtualPackages } from '../../src/ecosystems/conda/platforms.js';
import { versionComparator } from '../../src/ecosystems/conda/rattler.js';
import { checkRecord, newestOnly, parseRepodata, recordTexts, renderRepodata } from '../../src/ecosystems/conda/repodata.js';
import { channelsView } from '../../src/ecosystems/conda/view.js';

const CF = 'https://conda.anaconda.org/conda-forge';
const H64 = 'a'.repeat(64);
const M32 = 'b'.repeat(32);

test('conda channels: names under the alias, served names from URL paths, package URLs taken apart', () => {
  assert.equal(channelUrl('conda-forge', 'https://conda.anaconda.org/'), CF);
  assert.equal(channelUrl(`${CF}/`, 'x'), CF);
  assert.throws(() => channelUrl('../etc', 'https://a'), /expected a URL or a channel name/);
  assert.equal(channelName(CF), 'conda-forge');
  assert.equal(channelName('https://repo.anaconda.com/pkgs/main/'), 'pkgs/main');
  assert.equal(channelName('http://127.0.0.1:8000/'), '127.0.0.1-8000');
  assert.deepEqual(parsePackageUrl(`${CF}/linux-64/numpy-1.26.4-py311h64a7726_0.conda#${M32}`, 'x'), {
    channelUrl: CF,
    subdir: 'linux-64',
    filename: 'numpy-1.26.4-py311h64a7726_0.conda',
    url: `${CF}/linux-64/numpy-1.26.4-py311h64a7726_0.conda`,
  });
  assert.throws(() => parsePackageUrl(`${CF}/linux-65/numpy-1.26.4-py311_0.conda`, 'f:3'), /f:3: .* is not a conda package URL/);
  assert.throws(() => parsePackageUrl(`${CF}/linux-64/numpy.whl`, 'f:3'), /not a conda package URL/);
  assert.throws(() => parsePackageUrl('file:///tmp/linux-64/a-1-0.conda', 'f:3'), /not an http\(s\) URL/);
});

test('conda explicit files: @EXPLICIT, then URLs with an md5 or sha256 after #', () => {
  const text = [
    '# platform: linux-64',
    '@EXPLICIT',
    `${CF}/linux-64/a-1-0.tar.bz2#${M32}`,
    '',
    `${CF}/noarch/b-2-py_0.conda#sha256:${H64}`,
    `${CF}/noarch/c-3-0.conda`,
  ].join('\n');
  const got = parseExplicit(text, 'spec.txt');
  assert.deepEqual(
    got.map((p) => [p.filename, p.md5, p.sha256, p.origin]),
    [
      ['a-1-0.tar.bz2', M32, undefined, 'spec.txt:3'],
      ['b-2-py_0.conda', undefined, H64, 'spec.txt:5'],
      ['c-3-0.conda', undefined, undefined, 'spec.txt:6'],
    ],
  );
  assert.throws(() => parseExplicit(`${CF}/noarch/c-3-0.conda\n`, 'spec.txt'), /spec\.txt: no @EXPLICIT line/);
  assert.throws(
    () => parseExplicit(`@EXPLICIT\n${CF}/noarch/c-3-0.conda#abc\n`, 'spec.txt'),
    /spec\.txt:2: the hash after # \("abc"\) is neither a sha256 nor an md5/,
  );
});

test('conda locks: pixi.lock v6 and v4 and conda-lock.yml give the conda packages of the target subdirs', () => {
  const v6 = [
    'version: 6',
    'environments:',
    '  default:',
    '    channels: [{ url: "https://conda.anaconda.org/conda-forge/" }]',
    '    packages:',
    '      linux-64:',
    `      - conda: ${CF}/linux-64/a-1-0.conda`,
    `      - conda: ${CF}/noarch/n-1-0.conda`,
    '      - pypi: https://files.example/r-2-py3-none-any.whl',
    '      osx-arm64:',
    `      - conda: ${CF}/osx-arm64/a-1-0.conda`,
    '  test:',
    '    channels: []',
    '    packages:',
    '      linux-64:',
    `      - conda: ${CF}/noarch/n-1-0.conda`,
    '      - conda: .',
    'packages:',
    `- conda: ${CF}/linux-64/a-1-0.conda`,
    `  sha256: ${H64}`,
    `  md5: ${M32}`,
  ].join('\n');
  const six = parseCondaLock(v6, 'pixi.lock', ['linux-64']);
  assert.deepEqual(
    six.packages.map((p) => [p.filename, p.sha256, p.md5]),
    [
      ['a-1-0.conda', H64, M32],
      ['n-1-0.conda', undefined, undefined],
    ],
  );
  assert.deepEqual(six.skipped, ['https://files.example/r-2-py3-none-any.whl', '.']);

  const v4 = [
    'version: 4',
    'environments:',
    '  default:',
    '    packages:',
    '      linux-aarch64:',
    `        - conda: "${CF}/linux-aarch64/a-1-0.tar.bz2"`,
    'packages:',
    '  - kind: conda',
    `    url: "${CF}/linux-aarch64/a-1-0.tar.bz2"`,
    `    md5: ${M32}`,
  ].join('\n');
  assert.deepEqual(
    parseCondaLock(v4, 'pixi.lock', ['linux-aarch64']).packages.map((p) => [p.subdir, p.md5]),
    [['linux-aarch64', M32]],
  );
  assert.throws(
    () => parseCondaLock('version: 3\nenvironments: {}\n', 'pixi.lock', []),
    /pixi\.lock: pixi\.lock version 3 is not supported/,
  );

  const condaLock = [
    'version: 1',
    'metadata: { platforms: [linux-64, osx-64] }',
    'package:',
    `  - { name: a, manager: conda, platform: linux-64, url: "${CF}/linux-64/a-1-0.conda", hash: { md5: ${M32}, sha256: ${H64} } }`,
    `  - { name: a, manager: conda, platform: osx-64, url: "${CF}/osx-64/a-1-0.conda", hash: { md5: ${M32} } }`,
    '  - { name: r, manager: pip, platform: linux-64, url: "https://files.example/r-2-py3-none-any.whl", hash: { sha256: ' + H64 + ' } }',
  ].join('\n');
  const cl = parseCondaLock(condaLock, 'conda-lock.yml', ['linux-64']);
  assert.deepEqual(
    cl.packages.map((p) => [p.subdir, p.sha256]),
    [['linux-64', H64]],
  );
  assert.equal(cl.skipped.length, 1);
  assert.throws(() => parseCondaLock('name: x\n', 'x.yml', []), /neither a pixi\.lock .* nor a conda-lock\.yml/);
});

test('conda environment files: channels (defaults expanded), specs, and pip dependencies set aside', () => {
  const env = parseEnvironmentFile(
    'name: e\nchannels: [conda-forge, defaults, nodefaults]\ndependencies:\n  - python=3.11\n  - numpy>=1.26\n  - pip:\n    - requests==2.32\n',
    'environment.yml',
  );
  assert.deepEqual(env, {
    channels: ['conda-forge', 'https://repo.anaconda.com/pkgs/main', 'https://repo.anaconda.com/pkgs/r'],
    specs: ['python=3.11', 'numpy>=1.26'],
    pip: ['requests==2.32'],
  });
  assert.throws(() => parseEnvironmentFile('name: e\n', 'environment.yml'), /environment\.yml: not a conda environment file/);
});

test('conda targets: subdirs and the virtual packages the closed side provides', () => {
  assert.deepEqual(condaSubdirs({ platforms: ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows/amd64'], python: [] }), [
    'linux-64',
    'linux-aarch64',
    'osx-arm64',
    'win-64',
  ]);
  assert.throws(() => condaSubdirs({ platforms: ['plan9/amd64'], python: [] }), /plan9\/amd64 has no conda subdir/);
  const show = (vs: { name: string; version: string; build: string }[]) => vs.map((v) => `${v.name}=${v.version}=${v.build}`).sort();
  assert.deepEqual(show(virtualPackages('linux-64', { platforms: [], python: [] })), [
    '__archspec=1=x86_64',
    '__glibc=2.28=0',
    '__linux=4.18=0',
    '__unix=0=0',
  ]);
  assert.deepEqual(show(virtualPackages('linux-aarch64', { platforms: [], python: [], libc: 'musl-1.2' })), [
    '__archspec=1=aarch64',
    '__linux=4.18=0',
    '__musl=1.2=0',
    '__unix=0=0',
  ]);
  assert.deepEqual(show(virtualPackages('linux-64', { platforms: [], python: [], libc: 'glibc-2.17' }, ['__cuda=12.4', '__glibc=2.31'])), [
    '__archspec=1=x86_64',
    '__cuda=12.4=0',
    '__glibc=2.31=0',
    '__linux=4.18=0',
    '__unix=0=0',
  ]);
  assert.deepEqual(show(virtualPackages('win-64', { platforms: [], python: [] })), ['__archspec=1=x86_64', '__win=0=0']);
});

test('conda repodata: records checked on lookup, rendered per format with their JSON text kept, newest by conda version order', async () => {
  assert.throws(
    () => checkRecord('a-1-0.conda', { name: 'b', version: '1', build: '0', md5: M32 }, 'chan'),
    /chan: the repodata record of a-1-0\.conda names b-1-0/,
  );
  assert.throws(() => checkRecord('a-1-0.conda', { name: 'a', version: '1', build: '0' }, 'chan'), /neither sha256 nor md5/);
  assert.throws(() => checkRecord('a-1-0.conda', { name: 'a', version: '1', build: '0', sha256: 'xyz' }, 'chan'), /malformed sha256/);
  const json = `{"version":"1","name":"a","build":"0","sha256":"${H64}"}`;
  const body = renderRepodata('linux-64', [
    { filename: 'a-1-0.conda', json },
    { filename: 'a-1-0.tar.bz2', json: `{"name":"a","version":"1","build":"0","md5":"${M32}"}` },
  ]).toString();
  assert.ok(body.includes(`"packages.conda":{"a-1-0.conda":${json}}`), 'the record as stored, field order kept');
  const doc = JSON.parse(body) as { info: unknown; packages: object; repodata_version: number };
  assert.deepEqual([doc.info, Object.keys(doc.packages), doc.repodata_version], [{ subdir: 'linux-64' }, ['a-1-0.tar.bz2'], 1]);

  const compare = await versionComparator();
  assert.ok(compare('1.10', '1.9') > 0);
  assert.ok(compare('1.0rc1', '1.0') < 0);
  const recs = [
    { name: 'a', version: '1.9', b: 1 },
    { name: 'a', version: '1.10', b: 2 },
    { name: 'a', version: '1.10', b: 3 },
    { name: 'c', version: '0.1', b: 4 },
  ];
  assert.deepEqual(
    newestOnly(recs, compare).map((r) => r.b),
    [2, 3, 4],
  );
});

test("conda repodata: each record's exact upstream text, whatever its strings and spacing hold", () => {
  const doc = [
    '{ "info": {"subdir": "linux-64", "note": "} ] \\" {"},',
    '  "packages" : {',
    '    "a-1-0.tar.bz2" : { "name":"a", "version":"1", "build":"0", "md5":"' + M32 + '", "depends": ["b >=1,<2", "c {x}"], "x": null },',
    '    "we\\u0069rd-1-0.tar.bz2": {"name": "weird", "version": "1", "build": "0", "md5": "' +
      M32 +
      '", "d": {"e": [1, 2.50, true, "]"]}}',
    '  },',
    '  "packages.conda": {"a-1-0.conda":',
    '    {"name": "a", "version": "1", "build": "0", "sha256": "' + H64 + '", "size": 7}},',
    '  "removed": ["packages.conda"], "repodata_version": 1 }',
  ].join('\n');
  const texts = recordTexts(doc);
  assert.deepEqual([...texts.keys()], ['packages\0a-1-0.tar.bz2', 'packages\0weird-1-0.tar.bz2', 'packages.conda\0a-1-0.conda']);
  assert.equal(
    texts.get('packages\0weird-1-0.tar.bz2'),
    `{"name": "weird", "version": "1", "build": "0", "md5": "${M32}", "d": {"e": [1, 2.50, true, "]"]}}`,
    'numbers as written (2.50), not as re-serialised',
  );
  assert.equal(texts.get('packages.conda\0a-1-0.conda'), `{"name": "a", "version": "1", "build": "0", "sha256": "${H64}", "size": 7}`);
  const parsed = parseRepodata(doc, 'chan');
  for (const [name, { record, text }] of parsed) assert.deepEqual(JSON.parse(text), record, name);
  assert.throws(() => parseRepodata('{"packages": [] }', 'chan/linux-64'), /chan\/linux-64: repodata.json's packages is not an object/);
  assert.throws(() => parseRepodata('{"packages": {', 'chan/linux-64'), /chan\/linux-64: repodata.json is not JSON/);
});

test('conda served index: a record that contradicts its stored file is left out', () => {
  const art = (id: number, filename: string, record: object, digest = H64, size = 10): StoredArtifact => ({
    id,
    ecosystem: 'conda',
    key: `chan/linux-64/${filename}`,
    name: 'a',
    version: '1',
    digest: `sha256:${digest}`,
    size,
    metadata: { channel: 'chan', subdir: 'linux-64', filename, record: JSON.stringify(record) },
    blobs: [],
    bundleId: null,
    createdAt: '',
  });
  const view = channelsView([
    art(1, 'a-1-0.conda', { name: 'a', version: '1', build: '0', sha256: H64, size: 10 }),
    art(2, 'a-1-1.conda', { name: 'a', version: '1', build: '1', sha256: 'c'.repeat(64), size: 10 }),
    art(3, 'a-1-2.conda', { name: 'a', version: '1', build: '2', size: 11 }),
    art(4, 'a-1-3.conda', { name: 'zzz', version: '1', build: '3' }),
  ]);
  assert.deepEqual([...view.get('chan')!.get('linux-64')!.keys()], ['a-1-0.conda']);
});

test('conda client config: .condarc on the mirror for conda, mamba and micromamba; [mirrors] for pixi and rattler', () => {
  const condarc = condaEcosystem.clientConfig('http://mirror:8080', 'mamba');
  assert.match(condarc, /^channel_alias: http:\/\/mirror:8080\/conda$/m);
  assert.match(condarc, /^ {2}- http:\/\/mirror:8080\/conda\/pkgs\/main$/m);
  assert.match(condarc, /--override-channels -c http:\/\/mirror:8080\/conda\/conda-forge/);
  const pixi = condaEcosystem.clientConfig('http://mirror:8080', 'pixi');
  assert.match(pixi, /^\[mirrors\]\n"https:\/\/conda\.anaconda\.org" = \["http:\/\/mirror:8080\/conda"\]$/m);
  assert.equal(condaEcosystem.clientConfig('http://mirror:8080', 'rattler'), pixi);
});
