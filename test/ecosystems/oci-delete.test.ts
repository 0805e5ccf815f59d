import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import type { Store } from '../../src/core/store.js';
import { silentReporter } from '../../src/core/report.js';
import type { Lockfile } from '../../src/manifest/lockfile.js';
import { buildServer } from '../../src/server/app.js';
import { createBundle } from '../../src/services/bundle.js';
import { importBundles } from '../../src/services/import.js';
import { createToken } from '../../src/services/tokens.js';
import { twoStores } from '../helpers/stores.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const NAME = 'team/app';
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

async function serve(t: TestContext, store: Store) {
  const server = await buildServer({ store, baseUrl: 'http://mirror', auth: 'none' });
  t.after(() => server.close());
  return (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token: string, body?: Buffer, headers: Record<string, string> = {}) =>
    server.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...headers }, ...(body ? { payload: body } : {}) });
}

/**
 * An image pushed to the connected side as `team/app:1.0`, carried in a bundle and imported on
 * the closed side, whose server is driven with a publisher and an admin token.
 */
async function world(t: TestContext) {
  const { dir, low, high } = await twoStores(t);
  const lowReq = await serve(t, low);
  const pusher = await createToken(low, 'ci', 'publisher');
  const blob = async (body: Buffer, mediaType: string) => {
    const r = await lowReq('POST', `/v2/${NAME}/blobs/uploads/?digest=${sha256(body)}`, pusher, body, {
      'content-type': 'application/octet-stream',
    });
    assert.equal(r.statusCode, 201, r.body);
    return { mediaType, digest: sha256(body), size: body.length };
  };
  const config = await blob(json({ os: 'linux', architecture: 'amd64' }), 'application/vnd.oci.image.config.v1+json');
  const layer = await blob(Buffer.from('the only layer'), 'application/vnd.oci.image.layer.v1.tar');
  const manifest = json({ schemaVersion: 2, mediaType: MANIFEST, config, layers: [layer] });
  const put = await lowReq('PUT', `/v2/${NAME}/manifests/1.0`, pusher, manifest, { 'content-type': MANIFEST });
  assert.equal(put.statusCode, 201, put.body);
  const artifacts = (await low.meta.listArtifacts({ ecosystem: 'oci' })).map(({ id: _i, bundleId: _b, createdAt: _c, ...a }) => a);
  const lock: Lockfile = { lockVersion: 1, name: 'images', target: { platforms: ['linux/amd64'], python: [] }, artifacts };
  const { files } = await createBundle(low, lock, {
    out: join(dir, 'images.airlock'),
    sequence: 1,
    creator: 'ingest',
    reporter: silentReporter,
  });
  await importBundles(high, files, silentReporter);
  const req = await serve(t, high);
  return {
    high,
    files,
    req,
    digest: sha256(manifest),
    publisher: await createToken(high, 'ci', 'publisher'),
    admin: await createToken(high, 'root', 'admin'),
  };
}

const errorCode = (body: string) => (JSON.parse(body) as { errors: { code: string; message: string }[] }).errors[0]!;

test('oci: a publisher cannot delete a manifest or a tag that came in a bundle (403 DENIED), and nothing changes', async (t) => {
  const w = await world(t);
  for (const ref of [w.digest, '1.0']) {
    const res = await w.req('DELETE', `/v2/${NAME}/manifests/${ref}`, w.publisher);
    assert.equal(res.statusCode, 403, `${ref}: ${res.body}`);
    const e = errorCode(res.body);
    assert.equal(e.code, 'DENIED');
    assert.match(e.message, /came in bundle .*only an admin token may delete it/);
  }
  assert.equal((await w.req('GET', `/v2/${NAME}/manifests/1.0`, w.publisher)).statusCode, 200);
  assert.equal((await w.req('GET', `/v2/${NAME}/manifests/${w.digest}`, w.publisher)).statusCode, 200);
  assert.ok(!(await w.high.meta.listAudit()).some((a) => a.action === 'oci.delete'));
});

test('oci: an admin may delete bundle content, audited with the bundle; re-importing the bundle restores the tag and the manifest', async (t) => {
  const w = await world(t);
  assert.equal((await w.req('DELETE', `/v2/${NAME}/manifests/1.0`, w.admin)).statusCode, 202);
  assert.equal((await w.req('GET', `/v2/${NAME}/manifests/1.0`, w.admin)).statusCode, 404);
  assert.equal((await w.req('DELETE', `/v2/${NAME}/manifests/${w.digest}`, w.admin)).statusCode, 202);
  assert.equal((await w.req('GET', `/v2/${NAME}/manifests/${w.digest}`, w.admin)).statusCode, 404);
  const deletes = (await w.high.meta.listAudit()).filter((a) => a.action === 'oci.delete');
  assert.equal(deletes.length, 2);
  const bundleId = (await w.high.meta.listBundles())[0]!.id;
  for (const d of deletes) {
    assert.equal(d.actor, 'token:root');
    assert.deepEqual((JSON.parse(d.detail) as { bundles: string[] }).bundles, [bundleId]);
  }

  const [again] = await importBundles(w.high, w.files, silentReporter);
  assert.equal(again!.outcome, 'unchanged');
  assert.equal(again!.added, 1, 'the deleted image is registered again');
  const tagged = await w.req('GET', `/v2/${NAME}/manifests/1.0`, w.admin);
  assert.equal(tagged.statusCode, 200, tagged.body);
  assert.equal(tagged.headers['docker-content-digest'], w.digest);
  assert.equal((await w.req('GET', `/v2/${NAME}/manifests/${w.digest}`, w.admin)).statusCode, 200);
  assert.equal((await w.req('GET', `/v2/${NAME}/tags/list`, w.admin)).json().tags.join(), '1.0');
  assert.ok((await w.high.meta.getArtifact('oci', `${NAME}:1.0@${w.digest}`))?.bundleId, 'restored as bundle content again');
});

test('oci: a publisher still deletes what was pushed here', async (t) => {
  const w = await world(t);
  const other = json({
    schemaVersion: 2,
    mediaType: MANIFEST,
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: sha256(json({ os: 'linux', architecture: 'amd64' })),
      size: json({ os: 'linux', architecture: 'amd64' }).length,
    },
    layers: [],
    annotations: { pushed: 'here' },
  });
  assert.equal((await w.req('PUT', `/v2/${NAME}/manifests/2.0`, w.publisher, other, { 'content-type': MANIFEST })).statusCode, 201);
  assert.equal((await w.req('DELETE', `/v2/${NAME}/manifests/2.0`, w.publisher)).statusCode, 202);
  assert.equal((await w.req('DELETE', `/v2/${NAME}/manifests/${sha256(other)}`, w.publisher)).statusCode, 202);
});
