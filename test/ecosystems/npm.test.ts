import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { HttpClient } from '../../src/core/http.js';
import { type Reporter, silentReporter } from '../../src/core/report.js';
import { Store } from '../../src/core/store.js';
import { type Lockfile, serializeLock } from '../../src/manifest/lockfile.js';
import { fetchLock } from '../../src/services/fetch.js';
import { lockManifest, readManifest, writeLockFile } from '../../src/services/lock.js';
import { packageNameFromPath } from '../../src/ecosystems/npm/names.js';
import { createToken } from '../../src/services/tokens.js';
import { airlock } from '../helpers/cli.js';
import { type WorldPackage, npmWorld } from '../helpers/npm-world.js';
import { emptyServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

test('npm names: scoped names arrive as %2f, %2F or a slash; anything else is refused', () => {
  for (const raw of ['@scope%2fname', '@scope%2Fname', '@scope/name']) assert.equal(packageNameFromPath(raw), '@scope/name');
  for (const bad of ['..', '@scope', 'Upper', 'a/b', '%zz', '.hidden', `${'a'.repeat(215)}`])
    assert.equal(packageNameFromPath(bad), undefined, bad);
});

test('npm: packuments full and abbreviated, tarball URLs on this server, integrity checked on publish', async (t) => {
  const { store, server } = await emptyServer(t, { baseUrl: 'http://mirror:8080' });
  const token = await createToken(store, 'ci', 'publisher');
  const tgz = Buffer.from('not really a tarball, but bytes with a digest');
  const integrity = `sha512-${createHash('sha512').update(tgz).digest('base64')}`;
  const publish = (data: Buffer, claimed = integrity) =>
    server.inject({
      method: 'PUT',
      url: '/npm/@scope%2fthing',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      payload: {
        name: '@scope/thing',
        'dist-tags': { latest: '1.0.0' },
        versions: {
          '1.0.0': {
            name: '@scope/thing',
            version: '1.0.0',
            os: ['linux'],
            scripts: { test: 'x', postinstall: 'node setup.js' },
            dist: { integrity: claimed, tarball: 'https://elsewhere.example/thing.tgz' },
          },
        },
        _attachments: {
          'thing-1.0.0.tgz': { content_type: 'application/octet-stream', data: data.toString('base64'), length: data.length },
        },
      },
    });
  const lying = await publish(Buffer.from('other bytes'));
  assert.equal(lying.statusCode, 400);
  assert.match(lying.body, /does not match dist\.integrity/);
  assert.equal((await publish(tgz)).statusCode, 201);
  assert.equal((await publish(tgz)).statusCode, 403, 'a version is never published twice');

  const full = await server.inject({ url: '/npm/@scope%2Fthing', headers: { accept: 'application/json' } });
  assert.equal(full.headers['content-type'], 'application/json');
  const doc = JSON.parse(full.body) as {
    versions: Record<string, { dist: { tarball: string }; scripts?: unknown }>;
    time: Record<string, string>;
    'dist-tags': Record<string, string>;
  };
  assert.equal(
    doc.versions['1.0.0']!.dist.tarball,
    'http://mirror:8080/npm/@scope%2fthing/-/thing-1.0.0.tgz',
    'the upstream URL is never served',
  );
  assert.ok(doc.time['1.0.0'] && doc['dist-tags'].latest === '1.0.0' && doc.versions['1.0.0']!.scripts);
  const abbreviated = await server.inject({
    url: '/npm/@scope/thing',
    headers: { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*' },
  });
  assert.equal(abbreviated.headers['content-type'], 'application/vnd.npm.install-v1+json');
  const short = JSON.parse(abbreviated.body) as { versions: Record<string, Record<string, unknown>>; modified: string };
  assert.deepEqual(Object.keys(short.versions['1.0.0']!).sort(), ['dist', 'hasInstallScript', 'name', 'os', 'version']);
  assert.ok(short.modified);
  const tarball = await server.inject({ url: '/npm/@scope%2fthing/-/thing-1.0.0.tgz', headers: { range: 'bytes=0-2' } });
  assert.equal(tarball.statusCode, 206);
  assert.equal(tarball.body, 'not');
  assert.equal((await server.inject({ url: '/npm/nothing-here' })).statusCode, 404);
  assert.equal(
    (await server.inject({ method: 'PUT', url: '/npm/@scope%2fthing', payload: {} })).statusCode,
    401,
    'writes need a publisher token',
  );
});

test('npm platforms: os/cpu/libc lists decide per target, never for this machine', async () => {
  const { fitsPlatform, npmPlatforms } = await import('../../src/ecosystems/npm/platform.js');
  const [linuxX64, linuxArm, mac, win] = npmPlatforms({
    platforms: ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows/amd64'],
    python: [],
    libc: 'musl-1.2',
  });
  assert.deepEqual(linuxX64, { os: 'linux', cpu: 'x64', libc: 'musl' });
  assert.deepEqual(win, { os: 'win32', cpu: 'x64' });
  const esbuildLinuxArm = { os: ['linux'], cpu: ['arm64'] };
  assert.deepEqual(
    [linuxX64, linuxArm, mac, win].map((p) => fitsPlatform(esbuildLinuxArm, p!)),
    [false, true, false, false],
  );
  assert.ok(fitsPlatform({ os: ['!win32'] }, mac!) && !fitsPlatform({ os: ['!win32'] }, win!));
  assert.ok(!fitsPlatform({ os: ['linux'], libc: ['glibc'] }, linuxX64!), 'a glibc build does not fit a musl target');
  assert.ok(fitsPlatform({}, win!), 'no restriction fits everywhere');
});

test('.npmrc: scoped registries and the credentials npm would send, by the longest matching prefix', async () => {
  const { authHeaderFor, parseNpmrc, registryFor } = await import('../../src/ecosystems/npm/npmrc.js');
  const rc = parseNpmrc(
    [
      '; comment',
      'registry=https://reg.example/npm/',
      '@team:registry=https://team.example/',
      '//reg.example/npm/:_authToken=${TOK}',
      '//team.example/:_auth=dXNlcjpwYXNz',
      '//reg.example/:_authToken=outer',
    ].join('\n'),
    { TOK: 'inner' },
  );
  const cfg = {
    registry: rc.registry!,
    scopes: { '@team': rc['@team:registry']! },
    credentials: Object.fromEntries(Object.entries(rc).filter(([k]) => k.startsWith('//'))),
  };
  assert.equal(registryFor(cfg, '@team/x'), 'https://team.example/');
  assert.equal(registryFor(cfg, 'lodash'), 'https://reg.example/npm/');
  assert.deepEqual(authHeaderFor(cfg, 'https://reg.example/npm/lodash/-/lodash-4.0.0.tgz'), { authorization: 'Bearer inner' });
  assert.deepEqual(authHeaderFor(cfg, 'https://reg.example/other/x'), { authorization: 'Bearer outer' });
  assert.deepEqual(authHeaderFor(cfg, 'https://team.example/@team%2fx'), { authorization: 'Basic dXNlcjpwYXNz' });
  assert.deepEqual(authHeaderFor(cfg, 'https://elsewhere.example/x'), {}, 'credentials never go to another host');
});

/** esbuild's pattern: a package whose optional platform builds fit some targets and not others. */
function esbuildWorld(fillers: number): WorldPackage[] {
  const builds = [
    ['linux', 'x64'],
    ['linux', 'arm64'],
    ['darwin', 'arm64'],
  ] as const;
  return [
    { name: 'vite', version: '5.4.0', dependencies: { esbuild: '^0.21.3', 'left-pad': '^1.0.0' } },
    {
      name: 'esbuild',
      version: '0.21.5',
      optionalDependencies: Object.fromEntries(builds.map(([os, cpu]) => [`@esbuild/${os}-${cpu}`, '0.21.5'])),
    },
    ...builds.map(([os, cpu]) => ({ name: `@esbuild/${os}-${cpu}`, version: '0.21.5', os: [os], cpu: [cpu] })),
    { name: 'left-pad', version: '1.3.0' },
    ...Array.from({ length: fillers }, (_, i) => ({ name: `filler-${i}`, version: '1.0.0' })),
  ];
}

async function npmProject(t: TestContext, fillers: number) {
  const dir = await tempDir(t);
  const store = await Store.open(join(dir, 'home'));
  const http = new HttpClient({ backoffMs: 1, retries: 1 });
  t.after(async () => {
    await http.close();
    await store.close();
  });
  const root = {
    vite: '^5.4.0',
    'left-pad': '1.3.0',
    ...Object.fromEntries(Array.from({ length: fillers }, (_, i) => [`filler-${i}`, '^1.0.0'])),
  };
  const world = await npmWorld(t, esbuildWorld(fillers), root);
  await writeFile(join(dir, 'package-lock.json'), JSON.stringify(world.lock));
  const yaml = join(dir, 'airlock.yaml');
  await writeFile(
    yaml,
    `name: web\ntarget: { platforms: [linux/amd64, linux/arm64] }\nnpm:\n  registry: ${world.registry}\n  lockfiles: [package-lock.json]\n`,
  );
  const lock = async (reporter: Reporter = silentReporter) =>
    lockManifest(await readManifest(yaml), { store, http, reporter, manifestDir: dir });
  const tarballGets = () => world.up.requests.filter((r) => r.path.endsWith('.tgz')).length;
  return { dir, store, http, world, lock, tarballGets };
}

test("npm lock: a re-lock downloads no tarball the store holds with the lock's integrity; downloads go in parallel with progress", async (t) => {
  const { dir, store, http, world, lock, tarballGets } = await npmProject(t, 40);
  const lines: string[] = [];
  let inFlight = 0;
  let most = 0;
  const reporter: Reporter = {
    info: (m) => lines.push(m),
    warn: (m) => lines.push(`warning: ${m}`),
    progress: () => ({ update() {}, finish() {} }),
  };
  const first = await lock(reporter);
  assert.equal(tarballGets(), 45, 'every carried tarball once: vite, esbuild, two Linux builds, left-pad, 40 fillers');
  assert.ok(
    lines.some((l) => /^npm: 45\/45 package\(s\) pinned/.test(l)),
    lines.join('\n'),
  );
  assert.deepEqual(first.excluded, [
    {
      ecosystem: 'npm',
      key: '@esbuild/darwin-arm64@0.21.5',
      name: '@esbuild/darwin-arm64',
      version: '0.21.5',
      reason: 'os darwin, cpu arm64 match no target (linux/amd64, linux/arm64)',
      requiredBy: ['esbuild@0.21.5 (optional)'],
    },
  ]);
  await writeLockFile(join(dir, 'airlock.lock'), first);

  // lock → lock: the blobs are stored, no artifact rows yet; the previous lock says which blob has which integrity.
  world.up.requests.length = 0;
  const second = await lock();
  assert.equal(tarballGets(), 0);
  assert.equal(serializeLock(second), serializeLock(first));

  // A previous lock that names the wrong stored blob for an integrity is checked, not believed.
  const tampered = JSON.parse(serializeLock(first)) as Lockfile;
  const [a, b] = [tampered.artifacts.find((x) => x.key === 'left-pad@1.3.0')!, tampered.artifacts.find((x) => x.key === 'vite@5.4.0')!];
  Object.assign(a, { digest: b.digest, size: b.size, blobs: b.blobs });
  await writeFile(join(dir, 'airlock.lock'), serializeLock(tampered));
  world.up.requests.length = 0;
  assert.equal(serializeLock(await lock()), serializeLock(first));
  assert.deepEqual(
    world.up.requests.filter((r) => r.path.endsWith('.tgz')).map((r) => r.path),
    [world.tarballPath('left-pad', '1.3.0')],
  );

  // lock → fetch → lock: the store's own rows answer; not even a packument is asked for.
  await fetchLock(first, { store, http, reporter: silentReporter });
  await rm(join(dir, 'airlock.lock'));
  world.up.requests.length = 0;
  assert.equal(serializeLock(await lock()), serializeLock(first));
  assert.deepEqual(world.up.requests, []);

  // A fresh store downloads, at most 8 at once.
  const fresh = await Store.open(join(dir, 'fresh'));
  t.after(() => fresh.close());
  const counting = new HttpClient({ backoffMs: 1, retries: 1 });
  t.after(() => counting.close());
  const download = counting.download.bind(counting);
  counting.download = async (req) => {
    most = Math.max(most, ++inFlight);
    try {
      return await download(req);
    } finally {
      inFlight--;
    }
  };
  const again = await lockManifest(await readManifest(join(dir, 'airlock.yaml')), {
    store: fresh,
    http: counting,
    reporter: silentReporter,
    manifestDir: dir,
  });
  assert.equal(serializeLock(again), serializeLock(first));
  assert.ok(most > 1 && most <= 8, `downloads at once: ${most}`);
});

test('npm lock --explain: dependents and the ranges they asked; a platform-excluded package says why it stays', async (t) => {
  const { dir } = await npmProject(t, 0);
  const home = join(dir, 'home');
  const r = await airlock(['--home', home, 'lock', '--explain', 'esbuild'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /npm:esbuild@0\.21\.5 \(version 0\.21\.5\)/);
  assert.match(r.stdout, /required by: vite@5\.4\.0\n/);
  assert.match(r.stdout, /asked as: esbuild@\^0\.21\.3 from vite@5\.4\.0\n/);
  assert.match(r.stdout, /for: linux\/amd64; linux\/arm64\n/);
  const arm = await airlock(['--home', home, 'lock', '--explain', '@esbuild/linux-arm64'], { cwd: dir });
  assert.match(arm.stdout, /for: linux\/arm64\n/);
  assert.match(arm.stdout, /asked as: @esbuild\/linux-arm64@0\.21\.5 from esbuild@0\.21\.5 \(optional\)/);
  const pad = await airlock(['--home', home, 'lock', '--explain', 'left-pad'], { cwd: dir });
  assert.match(pad.stdout, /required by: app@1\.0\.0 \(package-lock\.json\), vite@5\.4\.0\n/);
  const mac = await airlock(['--home', home, 'lock', '--explain', '@esbuild/darwin-arm64'], { cwd: dir });
  assert.equal(mac.code, 0, mac.stderr);
  assert.equal(
    mac.stdout.split('\n').slice(1).join('\n'),
    'npm:@esbuild/darwin-arm64@0.21.5: not carried: os darwin, cpu arm64 match no target (linux/amd64, linux/arm64); required by esbuild@0.21.5 (optional)\n',
  );
  const json = JSON.parse(
    (await airlock(['--home', home, '--json', 'lock', '--explain', '@esbuild/darwin-arm64'], { cwd: dir })).stdout,
  ) as { explain: { key: string; excluded?: string }[] };
  assert.deepEqual(
    json.explain.map((e) => [e.key, e.excluded]),
    [['npm:@esbuild/darwin-arm64@0.21.5', 'os darwin, cpu arm64 match no target (linux/amd64, linux/arm64)']],
  );
  const none = await airlock(['--home', home, 'lock', '--explain', 'nothing-like-it'], { cwd: dir });
  assert.match(none.stdout, /nothing-like-it: not in the lock/);
});

test('npm lock: a target platform that no platform-specific build fits is warned about, naming the platform', async (t) => {
  const { dir, store, http } = await npmProject(t, 0);
  const yaml = join(dir, 'airlock.yaml');
  await writeFile(yaml, (await readFile(yaml, 'utf8')).replace('[linux/amd64, linux/arm64]', '[linux/amd64, linux/riscv64]'));
  const warnings: string[] = [];
  const reporter: Reporter = { info() {}, warn: (m) => warnings.push(m), progress: () => ({ update() {}, finish() {} }) };
  await lockManifest(await readManifest(yaml), { store, http, reporter, manifestDir: dir });
  assert.deepEqual(warnings, [
    'npm: no platform-specific package fits linux/riscv64 (3 are for other platforms, e.g. @esbuild/darwin-arm64@0.21.5): native builds will be missing there',
  ]);
});
