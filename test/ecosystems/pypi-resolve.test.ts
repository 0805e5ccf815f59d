import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { HttpClient } from '../../src/core/http.js';
import { silentReporter } from '../../src/core/report.js';
import { Store } from '../../src/core/store.js';
import { resolvePypi } from '../../src/ecosystems/pypi/resolve.js';
import { pypiSectionSchema } from '../../src/ecosystems/pypi/schema.js';
import { run } from '../helpers/cli.js';
import { startStaticIndex } from '../helpers/pypi-index.js';
import { tempDir } from '../helpers/tmp.js';
import { makeWheel } from '../helpers/wheels.js';
import { EXPECTED, buildWheels } from '../helpers/pypi-world.js';

async function context(t: TestContext, dir: string) {
  const store = await Store.open(join(dir, 'home'));
  const http = new HttpClient({ backoffMs: 1 });
  t.after(async () => {
    await http.close();
    await store.close();
  });
  const target = { platforms: ['linux/amd64', 'linux/arm64'], python: ['3.11', '3.12'], libc: 'glibc-2.28' };
  return { store, http, target, reporter: silentReporter, manifestDir: dir };
}

for (const [format, metadata] of [
  ['json', true],
  ['html', true],
  ['html', false],
] as const) {
  test(`resolves per target with backtracking and markers (${format}, ${metadata ? 'PEP 658' : 'METADATA from the wheel'})`, async (t) => {
    const dir = await tempDir(t);
    const index = await startStaticIndex(t, await buildWheels(dir), join(dir, 'index'), { format, metadata });
    const ctx = await context(t, dir);
    const locked = await resolvePypi(pypiSectionSchema.parse({ index: index.url, requirements: ['app'] }), ctx);
    assert.deepEqual(locked.map((a) => a.key).sort(), EXPECTED);
    const lib20arm = locked.find((a) => a.key === 'lib-2.0-cp312-cp312-manylinux_2_17_aarch64.whl')!;
    assert.deepEqual((lib20arm.metadata as { targets: string[] }).targets, ['linux/arm64 python 3.12 glibc-2.28']);
    const lib10 = locked.find((a) => a.key === 'lib-1.0-py3-none-any.whl')!;
    assert.deepEqual((lib10.metadata as { targets: string[] }).targets.sort(), [
      'linux/amd64 python 3.12 glibc-2.28',
      'linux/arm64 python 3.11 glibc-2.28',
    ]);
    for (const a of locked) {
      assert.ok((await ctx.store.blobs.stat(a.digest)) || metadata, `${a.key}: pinned by digest`);
      assert.equal(a.blobs.length, metadata ? 2 : 1, `${a.key}: the .metadata file travels with the wheel when the index has one`);
    }
    if (metadata)
      assert.ok(!index.requests.some((r) => r.endsWith('app-2.0-py3-none-any.whl')), 'PEP 658: rejected candidates are never downloaded');
  });
}

for (const format of ['json', 'html'] as const) {
  test(`without PEP 658 files, METADATA is read by HTTP ranges: rejected candidates are never downloaded whole (${format})`, async (t) => {
    const dir = await tempDir(t);
    const index = await startStaticIndex(t, await buildWheels(dir), join(dir, 'index'), { format, metadata: false, ranges: true });
    const ctx = await context(t, dir);
    const locked = await resolvePypi(pypiSectionSchema.parse({ index: index.url, requirements: ['app'] }), ctx);
    assert.deepEqual(locked.map((a) => a.key).sort(), EXPECTED);
    const app2 = index.requests.filter((r) => r.startsWith('/files/app-2.0-py3-none-any.whl'));
    assert.ok(app2.length > 0 && app2.every((r) => r.includes(' range=bytes=')), `only ranges of app 2.0: ${app2.join('; ')}`);
    // PEP 503 HTML gives no size: a suffix range reads the tail and learns it in one request.
    if (format === 'html') assert.match(app2[0]!, / range=bytes=-\d+$/);
  });
}

test('extras pull their dependencies; an impossible set explains which requirements clash', async (t) => {
  const dir = await tempDir(t);
  const index = await startStaticIndex(t, await buildWheels(dir), join(dir, 'index'), { format: 'json', metadata: true });
  const ctx = await context(t, dir);
  const withExtra = await resolvePypi(pypiSectionSchema.parse({ index: index.url, requirements: ['app[fast]'] }), {
    ...ctx,
    target: { platforms: ['linux/amd64'], python: ['3.12'] },
  });
  assert.ok(withExtra.some((a) => a.name === 'extra-dep'));
  await assert.rejects(
    resolvePypi(pypiSectionSchema.parse({ index: index.url, requirements: ['app==2.0'] }), ctx),
    /pypi \(linux\/amd64 python 3\.11 glibc-2\.28\): no version of lib satisfies lib>=3\.0 from app==2\.0 \(available: 2\.0, 1\.0\)/,
  );
  await assert.rejects(
    resolvePypi(pypiSectionSchema.parse({ index: index.url, requirements: ['future'] }), ctx),
    /no installable file of future 1\.0 for this target \(asked by airlock\.yaml\): future-1\.0-py3-none-any\.whl requires Python >=3\.13 \(the target is 3\.11\.0\)$/,
  );
  await assert.rejects(
    resolvePypi(pypiSectionSchema.parse({ index: index.url, requirements: ['nothing-here'] }), ctx),
    /no installable file of nothing-here for this target \(asked by airlock\.yaml\): the index lists no files of it$/,
  );
  await assert.rejects(
    resolvePypi(pypiSectionSchema.parse({ index: index.url, requirements: ['app'] }), {
      ...ctx,
      target: { platforms: ['linux/amd64'], python: [] },
    }),
    /target\.python must list/,
  );
});

test('no file fits: the error names the target, its libc, and the nearest files with the reason each was rejected', async (t) => {
  const dir = await tempDir(t);
  const wheels = await buildWheels(dir);
  for (const tag of [
    'cp312-cp312-manylinux_2_28_x86_64',
    'cp311-cp311-macosx_11_0_arm64',
    'cp311-cp311-win_amd64',
    'cp311-cp311-musllinux_1_2_x86_64',
  ])
    makeWheel(wheels, 'native', '1.0', '', `--tag=${tag}`);
  makeWheel(wheels, 'native', '1.0', '', '--sdist=2.2');
  makeWheel(wheels, 'native', '0.9', '', '--tag=cp310-cp310-manylinux_2_17_x86_64');
  makeWheel(wheels, 'lib', '3.0', '', '--tag=cp311-cp311-manylinux_2_17_aarch64');
  const index = await startStaticIndex(t, wheels, join(dir, 'index'), { format: 'json', metadata: true });
  const ctx = { ...(await context(t, dir)), target: { platforms: ['linux/amd64'], python: ['3.11'] } };
  const message = async (o: Record<string, unknown>) => {
    try {
      await resolvePypi(pypiSectionSchema.parse({ index: index.url, ...o }), ctx);
    } catch (e) {
      return (e as Error).message;
    }
    assert.fail('resolved');
  };
  const native = await message({ requirements: ['native'], sdists: 'never' });
  assert.equal(
    native,
    'pypi (linux/amd64 python 3.11 glibc-2.17): no installable file of native 1.0 (nor of 1 other version) for this target (asked by airlock.yaml): ' +
      'native-1.0-cp312-cp312-manylinux_2_28_x86_64.whl needs glibc >= 2.28 (the target is glibc 2.17, the default — set target.libc: glibc-2.28) and is for CPython 3.12; ' +
      'native-1.0-cp311-cp311-musllinux_1_2_x86_64.whl is musllinux, needs musl >= 1.2 (the target is glibc 2.17, the default — set target.libc: musl-1.2); ' +
      'native-1.0.tar.gz is an sdist and sdists: never (set pypi.sdists: fallback to take it); and 2 more',
  );
  assert.match(
    await message({ requirements: ['native<1'], sdists: 'never' }),
    /no installable file of native 0\.9 \(nor of 1 other version\) for this target \(asked by airlock\.yaml\): native-0\.9-cp310-cp310-manylinux_2_17_x86_64\.whl is for CPython 3\.10$/,
  );
  assert.equal(
    await message({ requirements: ['lib>=3.0'] }),
    'pypi (linux/amd64 python 3.11 glibc-2.17): no version of lib satisfies lib>=3.0 from airlock.yaml (available: 2.0, 1.0); lib 3.0 has no installable file for this target: lib-3.0-cp311-cp311-manylinux_2_17_aarch64.whl is for Linux aarch64',
  );
});

test('requirement files: continuations, comments, -r, -c, --hash; errors name file and line', async (t) => {
  const dir = await tempDir(t);
  const wheels = await buildWheels(dir);
  const index = await startStaticIndex(t, wheels, join(dir, 'index'), { format: 'json', metadata: true });
  const ctx = await context(t, dir);
  const armHash = createHash('sha256')
    .update(await readFile(join(wheels, 'armhelper-1.0-py3-none-any.whl')))
    .digest('hex');
  await writeFile(
    join(dir, 'requirements.txt'),
    '# the app\napp \\\n   ; python_version >= "3"  # trailing comment\n\n-r sub/more.txt\n-c constraints.txt\n',
  );
  await mkdir(join(dir, 'sub'));
  await writeFile(join(dir, 'sub', 'more.txt'), `armhelper --hash=sha256:${armHash}\n`);
  await writeFile(join(dir, 'constraints.txt'), 'lib<2\nwinonly==1.0\n');
  const section = pypiSectionSchema.parse({ index: index.url, requirementFiles: ['requirements.txt'] });
  const locked = await resolvePypi(section, { ...ctx, target: { platforms: ['linux/amd64'], python: ['3.11'] } });
  assert.deepEqual(locked.map((a) => a.key).sort(), [
    'app-1.0-py3-none-any.whl',
    'armhelper-1.0-py3-none-any.whl',
    'lib-1.0-py3-none-any.whl',
    'py311only-1.0-py3-none-any.whl',
  ]);

  await writeFile(join(dir, 'sub', 'more.txt'), `armhelper --hash=sha256:${'0'.repeat(64)}\n`);
  await assert.rejects(
    resolvePypi(section, ctx),
    /no installable file of armhelper 1\.0 for this target \(asked by .*more\.txt:1\): armhelper-1\.0-py3-none-any\.whl is not one of the --hash pins$/,
  );
  const bad = async (text: string, pattern: RegExp) => {
    await writeFile(join(dir, 'bad.txt'), text);
    await assert.rejects(resolvePypi(pypiSectionSchema.parse({ index: index.url, requirementFiles: ['bad.txt'] }), ctx), pattern);
  };
  await bad('app\n-e .\n', /bad\.txt:2: option -e is not supported here/);
  await bad('app\n\nlib >= nope\n', /bad\.txt:3: "?>=nope"? is not a PEP 440 version specifier/);
  await bad('app --hash=md5:abc\n', /bad\.txt:1: --hash md5:abc is not sha256/);
  await bad('-r missing.txt\n', /missing\.txt: cannot read/);
});

test('a wheel with malformed METADATA is refused, naming the file', async (t) => {
  const dir = await tempDir(t);
  const wheels = join(dir, 'wheels');
  await mkdir(wheels);
  const made = await run('python3', [
    '-c',
    `import zipfile; z = zipfile.ZipFile("${wheels}/broken-1.0-py3-none-any.whl", "w"); z.writestr("broken-1.0.dist-info/METADATA", "no headers here\\n"); z.close()`,
  ]);
  assert.equal(made.code, 0, made.stderr);
  for (const metadata of [true, false]) {
    const index = await startStaticIndex(t, wheels, join(dir, `index-${metadata}`), { format: 'json', metadata });
    const ctx = await context(t, dir);
    await assert.rejects(
      resolvePypi(pypiSectionSchema.parse({ index: index.url, requirements: ['broken'] }), ctx),
      /pypi:broken-1\.0-py3-none-any\.whl: its METADATA has no Name or Version/,
    );
  }
});

test('lockfiles are exact pins: uv.lock, pylock.toml (markers) and poetry.lock (files looked up on the index)', async (t) => {
  const dir = await tempDir(t);
  const wheels = await buildWheels(dir);
  const index = await startStaticIndex(t, wheels, join(dir, 'index'), { format: 'json', metadata: true });
  const ctx = await context(t, dir);
  const sha = async (f: string) =>
    createHash('sha256')
      .update(await readFile(join(wheels, f)))
      .digest('hex');
  const size = async (f: string) => (await readFile(join(wheels, f))).length;
  const url = (f: string) => `${index.url.replace(/simple\/$/, 'files/')}${f}`;
  const libX86 = 'lib-2.0-cp311-cp311-manylinux_2_17_x86_64.whl';
  const libArm = 'lib-2.0-cp312-cp312-manylinux_2_17_aarch64.whl';
  await writeFile(
    join(dir, 'uv.lock'),
    `version = 1\nrequires-python = ">=3.11"\n\n[[package]]\nname = "myproject"\nversion = "0.1.0"\nsource = { virtual = "." }\n\n[[package]]\nname = "lib"\nversion = "2.0"\nsource = { registry = "${index.url}" }\nwheels = [\n  { url = "${url(libX86)}", hash = "sha256:${await sha(libX86)}", size = ${await size(libX86)} },\n  { url = "${url(libArm)}", hash = "sha256:${await sha(libArm)}", size = ${await size(libArm)} },\n]\n`,
  );
  await writeFile(
    join(dir, 'pylock.toml'),
    `lock-version = "1.0"\ncreated-by = "test"\n\n[[packages]]\nname = "armhelper"\nversion = "1.0"\nmarker = "platform_machine == 'aarch64'"\n\n[[packages.wheels]]\nname = "armhelper-1.0-py3-none-any.whl"\nurl = "${url('armhelper-1.0-py3-none-any.whl')}"\nhashes = { sha256 = "${await sha('armhelper-1.0-py3-none-any.whl')}" }\n`,
  );
  await writeFile(
    join(dir, 'poetry.lock'),
    `[[package]]\nname = "py311only"\nversion = "1.0"\nfiles = [\n  { file = "py311only-1.0-py3-none-any.whl", hash = "sha256:${await sha('py311only-1.0-py3-none-any.whl')}" },\n]\n`,
  );
  const section = pypiSectionSchema.parse({ index: index.url, lockfiles: ['uv.lock', 'pylock.toml', 'poetry.lock'] });
  const locked = await resolvePypi(section, {
    ...ctx,
    target: { platforms: ['linux/amd64', 'linux/arm64'], python: ['3.11', '3.12'], libc: 'glibc-2.28' },
  });
  const byKey = new Map(locked.map((a) => [a.key, (a.metadata as { targets: string[] }).targets.sort()]));
  assert.deepEqual([...byKey.keys()].sort(), ['armhelper-1.0-py3-none-any.whl', libX86, libArm, 'py311only-1.0-py3-none-any.whl'].sort());
  assert.deepEqual(byKey.get(libX86), ['linux/amd64 python 3.11 glibc-2.28']);
  assert.deepEqual(byKey.get('armhelper-1.0-py3-none-any.whl'), [
    'linux/arm64 python 3.11 glibc-2.28',
    'linux/arm64 python 3.12 glibc-2.28',
  ]);
  assert.equal(byKey.get('py311only-1.0-py3-none-any.whl')!.length, 4);
  // A lockfile pin that disagrees with the index is refused.
  await writeFile(
    join(dir, 'poetry.lock'),
    `[[package]]\nname = "py311only"\nversion = "1.0"\nfiles = [{ file = "py311only-1.0-py3-none-any.whl", hash = "sha256:${'0'.repeat(64)}" }]\n`,
  );
  await assert.rejects(
    resolvePypi(pypiSectionSchema.parse({ index: index.url, lockfiles: ['poetry.lock'] }), ctx),
    /poetry\.lock: py311only 1\.0: the lockfile pins py311only-1\.0-py3-none-any\.whl to sha256:0+, the index says/,
  );
  await writeFile(join(dir, 'uv.lock'), 'version = [\n');
  await assert.rejects(resolvePypi(pypiSectionSchema.parse({ index: index.url, lockfiles: ['uv.lock'] }), ctx), /uv\.lock: /);
});

test('sdists: fallback when no wheel fits, never, always; metadata only when PKG-INFO can be trusted', async (t) => {
  const dir = await tempDir(t);
  const wheels = await buildWheels(dir);
  makeWheel(wheels, 'srconly', '1.0', '', '--sdist=2.2', 'lib>=1.0');
  makeWheel(wheels, 'mixed', '1.0');
  makeWheel(wheels, 'mixed', '1.0', '', '--sdist=2.2');
  makeWheel(wheels, 'old', '1.0', '', '--sdist=2.1', 'lib');
  makeWheel(wheels, 'zipsrc', '1.0', '', '--zip-sdist=2.4', 'mixed');
  const index = await startStaticIndex(t, wheels, join(dir, 'index'), { format: 'json', metadata: true });
  const ctx = await context(t, dir);
  const one = { ...ctx, target: { platforms: ['linux/amd64'], python: ['3.12'] } };
  const keys = async (o: Record<string, unknown>) =>
    (await resolvePypi(pypiSectionSchema.parse({ index: index.url, ...o }), one)).map((a) => a.key).sort();

  assert.deepEqual(await keys({ requirements: ['srconly'] }), ['lib-1.0-py3-none-any.whl', 'srconly-1.0.tar.gz']);
  await assert.rejects(keys({ requirements: ['srconly'], sdists: 'never' }), /no installable file of srconly/);
  assert.deepEqual(await keys({ requirements: ['mixed'] }), ['mixed-1.0-py3-none-any.whl'], 'a fitting wheel beats the sdist');
  assert.deepEqual(await keys({ requirements: ['mixed'], sdists: 'always' }), ['mixed-1.0-py3-none-any.whl', 'mixed-1.0.tar.gz']);
  await assert.rejects(
    keys({ requirements: ['old'] }),
    /pypi:old-1\.0\.tar\.gz: its dependencies are only known by building it \(core metadata 2\.1\)/,
  );
  assert.deepEqual(
    await keys({ requirements: ['zipsrc'] }),
    ['mixed-1.0-py3-none-any.whl', 'zipsrc-1.0.zip'],
    'a legacy .zip sdist is read too',
  );

  // Lockfiles follow the same rule: their sdists travel when no wheel fits, or always.
  const sha = async (f: string) =>
    createHash('sha256')
      .update(await readFile(join(wheels, f)))
      .digest('hex');
  const url = (f: string) => `${index.url.replace(/simple\/$/, 'files/')}${f}`;
  const entry = async (name: string, wheel: string | undefined, sdist: string) =>
    `[[package]]\nname = "${name}"\nversion = "1.0"\nsource = { registry = "${index.url}" }\n` +
    `sdist = { url = "${url(sdist)}", hash = "sha256:${await sha(sdist)}" }\n` +
    (wheel ? `wheels = [{ url = "${url(wheel)}", hash = "sha256:${await sha(wheel)}" }]\n` : '');
  await writeFile(
    join(dir, 'uv.lock'),
    `version = 1\n\n${await entry('mixed', 'mixed-1.0-py3-none-any.whl', 'mixed-1.0.tar.gz')}\n${await entry('srconly', undefined, 'srconly-1.0.tar.gz')}`,
  );
  const locked = (sdists: string) => keys({ lockfiles: ['uv.lock'], sdists });
  assert.deepEqual(await locked('fallback'), ['mixed-1.0-py3-none-any.whl', 'srconly-1.0.tar.gz']);
  assert.deepEqual(await locked('always'), ['mixed-1.0-py3-none-any.whl', 'mixed-1.0.tar.gz', 'srconly-1.0.tar.gz']);
  assert.deepEqual(await locked('never'), ['mixed-1.0-py3-none-any.whl']);
});
