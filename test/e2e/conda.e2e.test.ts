import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { recordTexts } from '../../src/ecosystems/conda/repodata.js';
import { airlock, inNamespace, run, serveOffline } from '../helpers/cli.js';
import { type Channel, type CondaPackage, buildChannel } from '../helpers/conda-channel.js';
import { tempDir } from '../helpers/tmp.js';
import { type Upstream, startUpstream } from '../helpers/upstream.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Two subdirs and noarch, both package formats, a package with two builds, a record with md5 only. */
const PACKAGES: CondaPackage[] = [
  { name: 'libfoo', version: '1.0', subdir: 'linux-64', depends: ['__glibc >=2.17'] },
  { name: 'libfoo', version: '1.1', subdir: 'linux-64', format: 'tar.bz2', md5Only: true, depends: ['__glibc >=2.17'] },
  { name: 'libfoo', version: '1.0', subdir: 'linux-aarch64', format: 'tar.bz2' },
  { name: 'app', version: '1.0', build: 'h1_0', subdir: 'linux-64', depends: ['pyfoo >=2', 'libfoo >=1.0'] },
  { name: 'app', version: '1.0', build: 'h2_1', buildNumber: 1, subdir: 'linux-64', depends: ['pyfoo >=2', 'libfoo >=1.0'] },
  { name: 'app', version: '1.0', build: 'h1_0', subdir: 'linux-aarch64', depends: ['pyfoo >=2', 'libfoo >=1.0'] },
  { name: 'pyfoo', version: '1.0', subdir: 'noarch' },
  { name: 'pyfoo', version: '2.0', subdir: 'noarch', depends: ['libfoo'] },
  { name: 'unused', version: '3.0', subdir: 'noarch' },
];

/** Built once for this file's tests (conda's packager takes a while per package); each test serves its own copy. */
let built: Promise<Channel> | undefined;

async function upstreamChannel(t: TestContext) {
  built ??= mkdtemp(join(tmpdir(), 'airlock-conda-channel-')).then((d) => {
    process.once('exit', () => rmSync(d, { recursive: true, force: true }));
    return buildChannel(PACKAGES, d);
  });
  const channel = await built;
  const files: Record<string, { body: Buffer }> = {};
  for (const [p, body] of channel.files) files[`/chan/${p}`] = { body };
  return { channel, upstream: await startUpstream(t, files) };
}

async function rattlerClient(channelUrl: string, subdir: string, specs: string[], ns?: Parameters<typeof inNamespace>[0]) {
  const args = ['test/fixtures/conda-client.mjs', channelUrl, subdir, ...specs];
  const r = ns ? await inNamespace(ns, 'node', args) : await run('node', args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { filename: string; url: string; size: number; sha256: string }[];
}

const lockedKeys = async (dir: string) =>
  (JSON.parse(await readFile(join(dir, 'airlock.lock'), 'utf8')) as { artifacts: { key: string }[] }).artifacts.map((a) => a.key).sort();

/**
 * An environment solved for linux-64 and linux-aarch64 from a channel the test builds,
 * bundled, imported and served with no network: rattler solving against the mirror picks the
 * same packages as against upstream, and every one downloads byte-identical.
 */
test('conda: specs solved per subdir → bundle → offline import → rattler solves and downloads from airlock', async (t) => {
  const dir = await tempDir(t);
  const { channel, upstream } = await upstreamChannel(t);
  await writeFile(
    join(dir, 'airlock.yaml'),
    [
      'name: sci',
      'target: { platforms: [linux/amd64, linux/arm64] }',
      'conda:',
      `  channels: [${upstream.url}/chan]`,
      '  specs: [app]',
      '  environmentFiles: [environment.yml]',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'environment.yml'),
    ['name: extra', 'dependencies:', '  - unused >=3', '  - pip:', '    - requests==2.32.3', ''].join('\n'),
  );
  const low = join(dir, 'low');
  for (const args of [['lock'], ['fetch'], ['bundle', 'create', '-o', 'sci.airlock']]) {
    const r = await airlock(['--home', low, ...args], { cwd: dir });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    if (args[0] === 'lock') assert.match(r.stderr, /environment\.yml: its pip: dependencies \(requests==2\.32\.3\) are PyPI's/);
  }
  assert.deepEqual(await lockedKeys(dir), [
    'chan/linux-64/app-1.0-h2_1.conda',
    'chan/linux-64/libfoo-1.1-h0_0.tar.bz2',
    'chan/linux-aarch64/app-1.0-h1_0.conda',
    'chan/linux-aarch64/libfoo-1.0-h0_0.tar.bz2',
    'chan/noarch/pyfoo-2.0-h0_0.conda',
    'chan/noarch/unused-3.0-h0_0.conda',
  ]);

  const high = join(dir, 'high');
  const imp = await airlock(['--home', high, 'import', join(dir, 'sci.airlock')], { offline: true });
  assert.equal(imp.code, 0, imp.stderr);
  const server = await serveOffline(t, ['--home', high, 'serve', '--listen', '127.0.0.1:8080']);
  const mirror = 'http://127.0.0.1:8080/conda/chan';

  for (const subdir of ['linux-64', 'linux-aarch64']) {
    const fromUpstream = await rattlerClient(`${upstream.url}/chan`, subdir, ['app']);
    const fromMirror = await rattlerClient(mirror, subdir, ['app'], server);
    assert.deepEqual(
      fromMirror.map((p) => [p.filename, p.sha256]),
      fromUpstream.map((p) => [p.filename, p.sha256]),
      `${subdir}: the same solution, byte-identical packages`,
    );
    assert.deepEqual(
      fromMirror.map((p) => p.filename.split('-')[0]),
      ['app', 'libfoo', 'pyfoo'],
    );
    assert.ok(fromMirror.every((p) => p.url.startsWith(`${mirror}/`)));
    for (const p of fromMirror)
      assert.equal(p.sha256, sha256(channel.files.get(`${new URL(p.url).pathname.split('/').at(-2)}/${p.filename}`)!));
  }

  const curl = (...args: string[]) => inNamespace(server, 'curl', ['-s', ...args]);
  // Both formats unpack with conda's own package handler.
  for (const f of ['linux-64/app-1.0-h2_1.conda', 'linux-64/libfoo-1.1-h0_0.tar.bz2']) {
    const name = f.split('/')[1]!;
    const x = await inNamespace(server, 'sh', [
      '-c',
      `cd ${dir} && curl -sf -o ${name} ${mirror}/${f} && cph extract ${name} --dest x-${name} && cat x-${name}/share/*/README`,
    ]);
    assert.equal(x.code, 0, x.stderr);
    assert.match(x.stdout, new RegExp(`^${name.split('-')[0]} `));
  }
  // Records as upstream wrote them, under packages (.tar.bz2) and packages.conda.
  const servedText = (await curl(`${mirror}/linux-64/repodata.json`)).stdout;
  const upstreamText = recordTexts(channel.files.get('linux-64/repodata.json')!.toString());
  assert.ok(
    servedText.includes(upstreamText.get('packages.conda\0app-1.0-h2_1.conda')!),
    'the record byte for byte, upstream indentation and all',
  );
  assert.ok(servedText.includes(upstreamText.get('packages\0libfoo-1.1-h0_0.tar.bz2')!));
  const repodata = JSON.parse(servedText) as {
    info: { subdir: string };
    packages: Record<string, unknown>;
    'packages.conda': Record<string, unknown>;
  };
  assert.equal(repodata.info.subdir, 'linux-64');
  assert.deepEqual(repodata.packages, { 'libfoo-1.1-h0_0.tar.bz2': channel.records.get('libfoo-1.1-h0_0.tar.bz2') });
  assert.deepEqual(repodata['packages.conda'], { 'app-1.0-h2_1.conda': channel.records.get('app-1.0-h2_1.conda') });
  const noarch = JSON.parse((await curl(`${mirror}/noarch/repodata.json`)).stdout) as { 'packages.conda': Record<string, unknown> };
  assert.deepEqual(Object.keys(noarch['packages.conda']), ['pyfoo-2.0-h0_0.conda', 'unused-3.0-h0_0.conda']);
  const empty = JSON.parse((await curl(`${mirror}/osx-arm64/repodata.json`)).stdout) as { info: { subdir: string }; packages: object };
  assert.deepEqual([empty.info.subdir, empty.packages], ['osx-arm64', {}]);

  const head = (await curl('-I', `${mirror}/linux-64/repodata.json`)).stdout;
  assert.match(head, /^HTTP\/1\.1 200/);
  const etag = /^etag: (.+)\r$/im.exec(head)![1]!;
  assert.match((await curl('-I', '-H', `If-None-Match: ${etag}`, `${mirror}/linux-64/repodata.json`)).stdout, /^HTTP\/1\.1 304/);
  const plain = await inNamespace(server, 'sh', ['-c', `curl -s ${mirror}/linux-64/repodata.json | sha256sum`]);
  const unpacked = await inNamespace(server, 'sh', ['-c', `curl -s ${mirror}/linux-64/repodata.json.zst | zstd -dc | sha256sum`]);
  assert.equal(unpacked.stdout, plain.stdout, 'repodata.json.zst is repodata.json compressed');
  assert.match((await curl('-I', `${mirror}/linux-64/current_repodata.json`)).stdout, /^HTTP\/1\.1 200/);
  const channeldata = JSON.parse((await curl(`${mirror}/channeldata.json`)).stdout) as {
    packages: Record<string, { subdirs: string[]; version: string }>;
    subdirs: string[];
  };
  assert.deepEqual(channeldata.packages.libfoo, { subdirs: ['linux-64', 'linux-aarch64'], version: '1.1' });
  assert.deepEqual(channeldata.subdirs, ['linux-64', 'linux-aarch64', 'noarch']);
  assert.equal(
    (await curl('-o', '/dev/null', '-w', '%{http_code}', `${mirror}/linux-64/app-1.0-h2_1%2Econda`)).stdout,
    '200',
    'an escaped name is the same file',
  );
  const range = await curl('-i', '-r', '0-3', `${mirror}/linux-64/app-1.0-h2_1.conda`);
  assert.match(range.stdout, /^HTTP\/1\.1 206/);
  assert.match(range.stdout, /cache-control: public, max-age=31536000, immutable/i);
  for (const miss of [
    `${mirror}/noarch/pyfoo-1.0-h0_0.conda`,
    'http://127.0.0.1:8080/conda/nochan/noarch/repodata.json',
    `${mirror}/linux-64/repodata_shards.msgpack.zst`,
    `${mirror}/linux-64/%2E%2E%2Frepodata.json`,
    `${mirror}/linux-65/repodata.json`,
  ]) {
    assert.equal((await curl('-o', '/dev/null', '-w', '%{http_code}', miss)).stdout, '404', miss);
  }
});

/** Explicit spec files and pixi.lock pin exact files: nothing is solved, the records still come from repodata. */
test('conda: an explicit spec file and a pixi.lock bundle without solving', async (t) => {
  const dir = await tempDir(t);
  const { channel, upstream } = await upstreamChannel(t);
  const base = `${upstream.url}/chan`;
  const md5 = (f: string) => channel.records.get(f)!.md5 as string;
  const sha = (f: string) => channel.records.get(f)!.sha256 as string;
  await writeFile(
    join(dir, 'spec.txt'),
    [
      '# platform: linux-64',
      '@EXPLICIT',
      `${base}/linux-64/libfoo-1.0-h0_0.conda#${md5('libfoo-1.0-h0_0.conda')}`,
      `${base}/noarch/unused-3.0-h0_0.conda#sha256:${sha('unused-3.0-h0_0.conda')}`,
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'pixi.lock'),
    [
      'version: 6',
      'environments:',
      '  default:',
      '    channels: [{ url: "' + base + '/" }]',
      '    packages:',
      '      linux-64:',
      `      - conda: ${base}/noarch/pyfoo-1.0-h0_0.conda`,
      '      - pypi: https://files.example/requests-2.0-py3-none-any.whl',
      '      osx-arm64:',
      `      - conda: ${base}/noarch/pyfoo-2.0-h0_0.conda`,
      'packages:',
      `- conda: ${base}/noarch/pyfoo-1.0-h0_0.conda`,
      `  sha256: ${sha('pyfoo-1.0-h0_0.conda')}`,
      `  md5: ${md5('pyfoo-1.0-h0_0.conda')}`,
      '',
    ].join('\n'),
  );
  await writeFile(
    join(dir, 'airlock.yaml'),
    ['name: pinned', 'target: { platforms: [linux/amd64] }', 'conda:', '  explicit: [spec.txt]', '  lockfiles: [pixi.lock]', ''].join('\n'),
  );
  const home = join(dir, 'home');
  const r = await airlock(['--home', home, 'lock'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /pixi\.lock: 1 non-conda package\(s\) left out/);
  assert.deepEqual(await lockedKeys(dir), [
    'chan/linux-64/libfoo-1.0-h0_0.conda',
    'chan/noarch/pyfoo-1.0-h0_0.conda',
    'chan/noarch/unused-3.0-h0_0.conda',
  ]);
  assert.ok(!upstream.requests.some((q) => q.path.includes('repodata_shards') || q.path.endsWith('.zst')), 'no solver ran');

  // A pin that disagrees with the channel is refused, naming the file and line.
  await writeFile(join(dir, 'spec.txt'), ['@EXPLICIT', `${base}/linux-64/libfoo-1.0-h0_0.conda#${'0'.repeat(32)}`, ''].join('\n'));
  const bad = await airlock(['--home', home, 'lock'], { cwd: dir });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /spec\.txt:2: libfoo-1\.0-h0_0\.conda is pinned to md5 0{32}, the channel's repodata says [0-9a-f]{32}/);
});

test("conda: a package whose bytes do not match repodata is refused and named; an unsatisfiable spec gets the solver's explanation", async (t) => {
  const dir = await tempDir(t);
  const { upstream } = await upstreamChannel(t);
  const corrupt = (u: Upstream, path: string) => {
    const f = u.files.get(path)!;
    u.files.set(path, { body: Buffer.concat([f.body.subarray(0, -1), Buffer.from([f.body.at(-1)! ^ 1])]) });
  };
  const yaml = (specs: string) =>
    `name: bad\ntarget: { platforms: [linux/amd64] }\nconda:\n  channels: [${upstream.url}/chan]\n  specs: [${specs}]\n`;
  const home = join(dir, 'home');

  await writeFile(join(dir, 'airlock.yaml'), yaml('app'));
  corrupt(upstream, '/chan/linux-64/app-1.0-h2_1.conda');
  assert.equal((await airlock(['--home', home, 'lock'], { cwd: dir })).code, 0);
  const fetched = await airlock(['--home', home, 'fetch'], { cwd: dir });
  assert.equal(fetched.code, 1);
  assert.match(fetched.stderr, /conda:chan\/linux-64\/app-1\.0-h2_1\.conda: expected sha256:[0-9a-f]{64}, got sha256:/);

  // A record with md5 only is checked at lock, when the file is downloaded.
  corrupt(upstream, '/chan/linux-64/libfoo-1.1-h0_0.tar.bz2');
  await writeFile(join(dir, 'airlock.yaml'), yaml('"libfoo >=1.1"'));
  const md5 = await airlock(['--home', home, 'lock'], { cwd: dir });
  assert.equal(md5.code, 1);
  assert.match(
    md5.stderr,
    /conda:chan\/linux-64\/libfoo-1\.1-h0_0\.tar\.bz2: .* has md5 [0-9a-f]{32}, the channel's repodata says [0-9a-f]{32}/,
  );

  await writeFile(join(dir, 'airlock.yaml'), yaml('"app >=2"'));
  const unsat = await airlock(['--home', home, 'lock'], { cwd: dir });
  assert.equal(unsat.code, 1);
  assert.match(unsat.stderr, /conda: airlock\.yaml conda\.specs: cannot solve for linux-64: .*No candidates were found for app >=2/);
});
