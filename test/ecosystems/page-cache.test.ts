import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { OriginPages, PageCache } from '../../src/ecosystems/http/revision-cache.js';
import { createToken } from '../../src/services/tokens.js';
import { emptyServer } from '../helpers/server.js';

test('PageCache holds at most its byte budget, dropping the least recently used page first', async () => {
  const cache = new PageCache(10_000);
  const page = (n: number) => async () => Buffer.alloc(n, 1);
  for (let i = 0; i < 100; i++) await cache.get(`p${i}`, 'r1', page(3_000));
  assert.ok(cache.bytes <= 10_000, `${cache.bytes} bytes held`);
  let renders = 0;
  const counted = async () => (renders++, Buffer.alloc(3_000, 2));
  await cache.get('keep', 'r1', counted);
  await cache.get('a', 'r1', page(3_000));
  await cache.get('keep', 'r1', counted);
  await cache.get('b', 'r1', page(3_000));
  await cache.get('keep', 'r1', counted);
  assert.equal(renders, 1, 'a page in use stays while older ones go');
  await cache.get('keep', 'r2', counted);
  assert.equal(renders, 2, 'a new revision renders again');
  const huge = await cache.get('huge', 'r2', page(50_000));
  assert.equal(huge?.body.length, 50_000, 'a page larger than the budget is still served');
  assert.equal(cache.bytes, 50_000);
});

test('OriginPages: one rendering, each origin filled in at send time, JSON-escaped, with its own ETag', () => {
  const origins = new OriginPages();
  const body = Buffer.from(JSON.stringify({ a: `${origins.placeholder}/npm/x/-/x-1.tgz`, b: [`${origins.placeholder}/y`], c: 'airlock-origin-not-it' }));
  const page = { revision: 'r', body, etag: `"${createHash('sha256').update(body).digest('hex')}"` };
  const one = origins.fill(page, 'http://a:8080');
  assert.deepEqual(JSON.parse(one.body.toString()), { a: 'http://a:8080/npm/x/-/x-1.tgz', b: ['http://a:8080/y'], c: 'airlock-origin-not-it' });
  const odd = origins.fill(page, 'http://"quoted"\\host');
  assert.equal((JSON.parse(odd.body.toString()) as { a: string }).a, 'http://"quoted"\\host/npm/x/-/x-1.tgz');
  assert.notEqual(one.etag, odd.etag);
  assert.equal(origins.fill(page, 'http://a:8080').etag, one.etag);
});

test('npm packuments on a wildcard listen name each request\'s Host; 600 Hosts share one cached rendering', async (t) => {
  const { store, server } = await emptyServer(t, { baseUrl: '' });
  const token = await createToken(store, 'ci', 'publisher');
  const tgz = Buffer.from('tarball bytes');
  const integrity = `sha512-${createHash('sha512').update(tgz).digest('base64')}`;
  const put = await server.inject({
    method: 'PUT',
    url: '/npm/left-pad',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: { name: 'left-pad', 'dist-tags': { latest: '1.0.0' }, versions: { '1.0.0': { name: 'left-pad', version: '1.0.0', dist: { integrity } } }, _attachments: { 'left-pad-1.0.0.tgz': { data: tgz.toString('base64'), length: tgz.length } } },
  });
  assert.equal(put.statusCode, 201, put.body);
  const etags = new Set<string>();
  for (let i = 0; i < 600; i++) {
    const r = await server.inject({ url: '/npm/left-pad', headers: { host: `h${i}.lab:8080`, accept: 'application/json' } });
    const doc = JSON.parse(r.body) as { versions: Record<string, { dist: { tarball: string } }> };
    assert.equal(doc.versions['1.0.0']!.dist.tarball, `http://h${i}.lab:8080/npm/left-pad/-/left-pad-1.0.0.tgz`);
    etags.add(String(r.headers.etag));
  }
  assert.equal(etags.size, 600, 'an ETag per origin, so a client never revalidates another Host\'s page');
});
