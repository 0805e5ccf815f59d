import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { MAX_DIST_TAGS } from '../../src/ecosystems/npm/publish.js';
import { createToken } from '../../src/services/tokens.js';
import { emptyServer } from '../helpers/server.js';

test('npm: dist-tags are bounded per package, and publish bodies nested too deep are refused before anything is stored', async (t) => {
  const { store, server } = await emptyServer(t);
  const auth = { authorization: `Bearer ${await createToken(store, 'ci', 'publisher')}`, 'content-type': 'application/json' };
  const tgz = Buffer.from('tarball');
  const integrity = `sha512-${createHash('sha512').update(tgz).digest('base64')}`;
  const doc = (version: string, tags: Record<string, string>, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      name: 'p',
      'dist-tags': tags,
      versions: { [version]: { name: 'p', version, dist: { integrity }, ...extra } },
      _attachments: { [`p-${version}.tgz`]: { data: tgz.toString('base64'), length: tgz.length } },
    });

  const many = Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`t${i}`, '1.0.0']));
  const started = Date.now();
  const flood = await server.inject({ method: 'PUT', url: '/npm/p', headers: auth, payload: doc('1.0.0', many) });
  assert.equal(flood.statusCode, 400, flood.body);
  assert.deepEqual(flood.json(), { error: `p: a package has at most ${MAX_DIST_TAGS} dist-tags; this document names 100000` });
  assert.ok(Date.now() - started < 5_000, 'refused without writing tag by tag');
  assert.equal((await server.inject({ url: '/npm/p' })).statusCode, 404, 'nothing was stored');

  const nested = `${'{"n":'.repeat(5_000)}"x"${'}'.repeat(5_000)}`;
  const deep = await server.inject({
    method: 'PUT',
    url: '/npm/p',
    headers: auth,
    payload: doc('1.0.0', {}, { deep: 'NESTED' }).replace('"NESTED"', nested),
  });
  assert.equal(deep.statusCode, 400, deep.body);
  assert.match(deep.body, /nested deeper than 64 levels/);

  assert.equal((await server.inject({ method: 'PUT', url: '/npm/p', headers: auth, payload: doc('1.0.0', {}) })).statusCode, 201);
  for (let i = 1; i < MAX_DIST_TAGS; i++) {
    const r = await server.inject({ method: 'PUT', url: `/npm/-/package/p/dist-tags/t${i}`, headers: auth, payload: '"1.0.0"' });
    assert.equal(r.statusCode, 201, r.body);
  }
  const over = await server.inject({ method: 'PUT', url: '/npm/-/package/p/dist-tags/one-more', headers: auth, payload: '"1.0.0"' });
  assert.equal(over.statusCode, 400);
  assert.deepEqual(over.json(), { error: `p: a package has at most ${MAX_DIST_TAGS} dist-tags` });
  const moved = await server.inject({ method: 'PUT', url: '/npm/-/package/p/dist-tags/t1', headers: auth, payload: '"1.0.0"' });
  assert.equal(moved.statusCode, 201, 'an existing tag may still move');
});

test('npm: a broken percent-escape in a dist-tag or tarball name (%25 arrives decoded once) is a 400, not a 500', async (t) => {
  const { server } = await emptyServer(t);
  for (const url of ['/npm/-/package/p/dist-tags/%25E0', '/npm/p/-/p-%25zz.tgz']) {
    const r = await server.inject({ url });
    assert.equal(r.statusCode, 400, `${url}: ${r.body}`);
    assert.match((r.json() as { error: string }).error, /percent-escape/);
  }
});
