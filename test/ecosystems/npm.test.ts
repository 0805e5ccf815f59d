import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store.js';
import { packageNameFromPath } from '../../src/ecosystems/npm/names.js';
import { buildServer } from '../../src/server/app.js';
import { createToken } from '../../src/services/tokens.js';
import { tempDir } from '../helpers/tmp.js';

test('npm names: scoped names arrive as %2f, %2F or a slash; anything else is refused', () => {
  for (const raw of ['@scope%2fname', '@scope%2Fname', '@scope/name']) assert.equal(packageNameFromPath(raw), '@scope/name');
  for (const bad of ['..', '@scope', 'Upper', 'a/b', '%zz', '.hidden', `${'a'.repeat(215)}`]) assert.equal(packageNameFromPath(bad), undefined, bad);
});

test('npm: packuments full and abbreviated, tarball URLs on this server, integrity checked on publish', async (t) => {
  const store = await Store.open(join(await tempDir(t), 'home'));
  const server = await buildServer({ store, baseUrl: 'http://mirror:8080', auth: 'none' });
  t.after(async () => {
    await server.close();
    await store.close();
  });
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
        versions: { '1.0.0': { name: '@scope/thing', version: '1.0.0', os: ['linux'], scripts: { test: 'x', postinstall: 'node setup.js' }, dist: { integrity: claimed, tarball: 'https://elsewhere.example/thing.tgz' } } },
        _attachments: { 'thing-1.0.0.tgz': { content_type: 'application/octet-stream', data: data.toString('base64'), length: data.length } },
      },
    });
  const lying = await publish(Buffer.from('other bytes'));
  assert.equal(lying.statusCode, 400);
  assert.match(lying.body, /does not match dist\.integrity/);
  assert.equal((await publish(tgz)).statusCode, 201);
  assert.equal((await publish(tgz)).statusCode, 403, 'a version is never published twice');

  const full = await server.inject({ url: '/npm/@scope%2Fthing', headers: { accept: 'application/json' } });
  assert.equal(full.headers['content-type'], 'application/json');
  const doc = JSON.parse(full.body) as { versions: Record<string, { dist: { tarball: string }; scripts?: unknown }>; time: Record<string, string>; 'dist-tags': Record<string, string> };
  assert.equal(doc.versions['1.0.0']!.dist.tarball, 'http://mirror:8080/npm/@scope%2fthing/-/thing-1.0.0.tgz', 'the upstream URL is never served');
  assert.ok(doc.time['1.0.0'] && doc['dist-tags'].latest === '1.0.0' && doc.versions['1.0.0']!.scripts);
  const abbreviated = await server.inject({ url: '/npm/@scope/thing', headers: { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*' } });
  assert.equal(abbreviated.headers['content-type'], 'application/vnd.npm.install-v1+json');
  const short = JSON.parse(abbreviated.body) as { versions: Record<string, Record<string, unknown>>; modified: string };
  assert.deepEqual(Object.keys(short.versions['1.0.0']!).sort(), ['dist', 'hasInstallScript', 'name', 'os', 'version']);
  assert.ok(short.modified);
  const tarball = await server.inject({ url: '/npm/@scope%2fthing/-/thing-1.0.0.tgz', headers: { range: 'bytes=0-2' } });
  assert.equal(tarball.statusCode, 206);
  assert.equal(tarball.body, 'not');
  assert.equal((await server.inject({ url: '/npm/nothing-here' })).statusCode, 404);
  assert.equal((await server.inject({ method: 'PUT', url: '/npm/@scope%2fthing', payload: {} })).statusCode, 401, 'writes need a publisher token');
});

test('npm platforms: os/cpu/libc lists decide per target, never for this machine', async () => {
  const { fitsPlatform, npmPlatforms } = await import('../../src/ecosystems/npm/platform.js');
  const [linuxX64, linuxArm, mac, win] = npmPlatforms({ platforms: ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows/amd64'], python: [], libc: 'musl-1.2' });
  assert.deepEqual(linuxX64, { os: 'linux', cpu: 'x64', libc: 'musl' });
  assert.deepEqual(win, { os: 'win32', cpu: 'x64' });
  const esbuildLinuxArm = { os: ['linux'], cpu: ['arm64'] };
  assert.deepEqual([linuxX64, linuxArm, mac, win].map((p) => fitsPlatform(esbuildLinuxArm, p!)), [false, true, false, false]);
  assert.ok(fitsPlatform({ os: ['!win32'] }, mac!) && !fitsPlatform({ os: ['!win32'] }, win!));
  assert.ok(!fitsPlatform({ os: ['linux'], libc: ['glibc'] }, linuxX64!), 'a glibc build does not fit a musl target');
  assert.ok(fitsPlatform({}, win!), 'no restriction fits everywhere');
});

test('.npmrc: scoped registries and the credentials npm would send, by the longest matching prefix', async () => {
  const { authHeaderFor, parseNpmrc, registryFor } = await import('../../src/ecosystems/npm/npmrc.js');
  const rc = parseNpmrc(
    ['; comment', 'registry=https://reg.example/npm/', '@team:registry=https://team.example/', '//reg.example/npm/:_authToken=${TOK}', '//team.example/:_auth=dXNlcjpwYXNz', '//reg.example/:_authToken=outer'].join('\n'),
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
