import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { join } from 'node:path';
import type { ArtifactRecord } from '../../src/core/artifact.js';
import type { Digest } from '../../src/core/digest.js';
import { SqliteMetadataStore } from '../../src/core/sqlite-metadata.js';
import { type Freshness, OriginPages, PageCache } from '../../src/ecosystems/http/revision-cache.js';
import { createToken } from '../../src/services/tokens.js';
import { emptyServer } from '../helpers/server.js';
import { putArtifacts } from '../helpers/meta.js';

/** A store revision, and the content generation it asks once that has moved (the number in it unless told). */
const at = (revision: string, content = Number(revision.slice(1))): Freshness => ({ revision, content: async () => content });

test('PageCache holds at most its byte budget, dropping the least recently used page first', async () => {
  const cache = new PageCache(10_000);
  const page = (n: number) => async () => Buffer.alloc(n, 1);
  for (let i = 0; i < 100; i++) await cache.get(`p${i}`, at('r1'), page(3_000));
  assert.ok(cache.bytes <= 10_000, `${cache.bytes} bytes held`);
  let renders = 0;
  const counted = async () => (renders++, Buffer.alloc(3_000, 2));
  await cache.get('keep', at('r1'), counted);
  await cache.get('a', at('r1'), page(3_000));
  await cache.get('keep', at('r1'), counted);
  await cache.get('b', at('r1'), page(3_000));
  await cache.get('keep', at('r1'), counted);
  assert.equal(renders, 1, 'a page in use stays while older ones go');
  await cache.get('keep', at('r2', 1), counted);
  assert.equal(renders, 1, 'a new store revision with the same content keeps the page');
  await cache.get('keep', at('r3', 2), counted);
  assert.equal(renders, 2, 'new content renders again');
  await cache.get('keep', at('r3', 2), counted);
  assert.equal(renders, 2);
  const huge = await cache.get('huge', at('r3'), page(50_000));
  assert.equal(huge?.body.length, 50_000, 'a page larger than the budget is still served');
  assert.equal(cache.bytes, 50_000);
});

test('OriginPages: one rendering, each origin filled in at send time, JSON-escaped, with its own ETag', () => {
  const origins = new OriginPages();
  const body = Buffer.from(
    JSON.stringify({ a: `${origins.placeholder}/npm/x/-/x-1.tgz`, b: [`${origins.placeholder}/y`], c: 'airlock-origin-not-it' }),
  );
  const page = { revision: 'r', content: 0, body, etag: `"${createHash('sha256').update(body).digest('hex')}"` };
  const one = origins.fill(page, 'http://a:8080');
  assert.deepEqual(JSON.parse(one.body.toString()), {
    a: 'http://a:8080/npm/x/-/x-1.tgz',
    b: ['http://a:8080/y'],
    c: 'airlock-origin-not-it',
  });
  const odd = origins.fill(page, 'http://"quoted"\\host');
  assert.equal((JSON.parse(odd.body.toString()) as { a: string }).a, 'http://"quoted"\\host/npm/x/-/x-1.tgz');
  assert.notEqual(one.etag, odd.etag);
  assert.equal(origins.fill(page, 'http://a:8080').etag, one.etag);
});

test("npm packuments on a wildcard listen name each request's Host; 600 Hosts share one cached rendering", async (t) => {
  const { store, server } = await emptyServer(t, { baseUrl: '' });
  const token = await createToken(store, 'ci', 'publisher');
  const tgz = Buffer.from('tarball bytes');
  const integrity = `sha512-${createHash('sha512').update(tgz).digest('base64')}`;
  const put = await server.inject({
    method: 'PUT',
    url: '/npm/left-pad',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: {
      name: 'left-pad',
      'dist-tags': { latest: '1.0.0' },
      versions: { '1.0.0': { name: 'left-pad', version: '1.0.0', dist: { integrity } } },
      _attachments: { 'left-pad-1.0.0.tgz': { data: tgz.toString('base64'), length: tgz.length } },
    },
  });
  assert.equal(put.statusCode, 201, put.body);
  const etags = new Set<string>();
  for (let i = 0; i < 600; i++) {
    const r = await server.inject({ url: '/npm/left-pad', headers: { host: `h${i}.lab:8080`, accept: 'application/json' } });
    const doc = JSON.parse(r.body) as { versions: Record<string, { dist: { tarball: string } }> };
    assert.equal(doc.versions['1.0.0']!.dist.tarball, `http://h${i}.lab:8080/npm/left-pad/-/left-pad-1.0.0.tgz`);
    etags.add(String(r.headers.etag));
  }
  assert.equal(etags.size, 600, "an ETag per origin, so a client never revalidates another Host's page");
});

const wheel = (name: string, version: string): ArtifactRecord => ({
  ecosystem: 'pypi',
  key: `${name}-${version}-py3-none-any.whl`,
  name,
  version,
  digest: `sha256:${createHash('sha256').update(`${name}-${version}`).digest('hex')}` as Digest,
  size: 1,
  metadata: {},
  blobs: [],
});

test("an import that changes project a leaves b's page cached and serves a fresh", async (t) => {
  const { store, server } = await emptyServer(t);
  await putArtifacts(store.meta, [wheel('a', '1.0'), wheel('b', '1.0')], null);
  const rendered: string[] = [];
  const list = store.meta.listArtifacts.bind(store.meta);
  store.meta.listArtifacts = async (filter) => (rendered.push(String(filter?.name)), list(filter));
  const page = (name: string) => server.inject({ url: `/pypi/simple/${name}/`, headers: { accept: 'text/html' } });
  await page('a');
  await page('b');
  assert.deepEqual(rendered, ['a', 'b']);

  // Another process (airlock import) commits a new file of a.
  const importer = new SqliteMetadataStore(join(store.home, 'airlock.db'));
  await putArtifacts(importer, [wheel('a', '2.0')], null);
  await importer.close();
  const a = await page('a');
  assert.match(a.body, /a-2\.0-py3-none-any\.whl/, 'a is fresh');
  const b = await page('b');
  assert.match(b.body, /b-1\.0-py3-none-any\.whl/);
  assert.deepEqual(rendered, ['a', 'b', 'a'], 'b was not rendered again');

  // This process's own write (an upload) likewise.
  await putArtifacts(store.meta, [wheel('b', '2.0')], null);
  assert.match((await page('b')).body, /b-2\.0-py3-none-any\.whl/, 'b is fresh');
  await page('a');
  assert.deepEqual(rendered, ['a', 'b', 'a', 'b'], 'a was not rendered again');
});
