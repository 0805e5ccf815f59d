import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { type TestContext, test } from 'node:test';
import type { StoredArtifact } from '../../src/core/artifact.js';
import { RegistryView } from '../../src/ecosystems/oci/view.js';
import { createToken } from '../../src/services/tokens.js';
import { emptyServer } from '../helpers/server.js';

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const INDEX = 'application/vnd.oci.image.index.v1+json';
const NAME = 'team/app';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const sha512 = (b: Buffer) => `sha512:${createHash('sha512').update(b).digest('hex')}`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
}

/** An airlock registry on an empty store, driven through fastify's inject with a publisher token. */
async function registry(t: TestContext) {
  const { store, server } = await emptyServer(t);
  const authorization = `Bearer ${await createToken(store, 'ci', 'publisher')}`;
  const req = (
    method: 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    body?: Buffer,
    headers: Record<string, string> = {},
  ) => server.inject({ method, url, headers: { authorization, ...headers }, ...(body ? { payload: body } : {}) });
  const blob = async (body: Buffer, mediaType = 'application/octet-stream', digest = sha256(body)): Promise<Desc> => {
    const r = await req('POST', `/v2/${NAME}/blobs/uploads/?digest=${digest}`, body, { 'content-type': 'application/octet-stream' });
    assert.equal(r.statusCode, 201, r.body);
    return { mediaType, digest, size: body.length };
  };
  const manifest = async (doc: Record<string, unknown>, reference?: string, digestOf = sha256): Promise<Desc & { bytes: Buffer }> => {
    const bytes = json(doc);
    const mediaType = String(doc.mediaType);
    const digest = digestOf(bytes);
    const r = await req('PUT', `/v2/${NAME}/manifests/${reference ?? digest}`, bytes, { 'content-type': mediaType });
    assert.equal(r.statusCode, 201, r.body);
    return { mediaType, digest, size: bytes.length, bytes };
  };
  const referrers = async (digest: string, filter?: string) => {
    const r = await req('GET', `/v2/${NAME}/referrers/${digest}${filter ? `?artifactType=${encodeURIComponent(filter)}` : ''}`);
    assert.equal(r.statusCode, 200, r.body);
    return (JSON.parse(r.body) as { manifests: (Desc & { artifactType?: string; annotations?: Record<string, string> })[] }).manifests;
  };
  return { store, server, req, blob, manifest, referrers };
}

/** An image manifest with one layer, pushed under `tag`. */
async function image(r: Awaited<ReturnType<typeof registry>>, tag: string) {
  const config = await r.blob(json({ os: 'linux', architecture: 'amd64', tag }), 'application/vnd.oci.image.config.v1+json');
  const layer = await r.blob(Buffer.from(`layer of ${tag}`), 'application/vnd.oci.image.layer.v1.tar');
  return r.manifest({ schemaVersion: 2, mediaType: MANIFEST, config, layers: [layer] }, tag);
}

const errorCode = (body: string) => (JSON.parse(body) as { errors: { code: string }[] }).errors[0]!.code;

test('a manifest asked for under a tag that cannot exist is unknown (404), not invalid', async (t) => {
  const r = await registry(t);
  await image(r, '1.0');
  for (const method of ['GET', 'HEAD'] as const) {
    const res = await r.req(method, `/v2/${NAME}/manifests/.INVALID_MANIFEST_NAME`);
    assert.equal(res.statusCode, 404, `${method}: ${res.body}`);
    if (method === 'GET') assert.equal(errorCode(res.body), 'MANIFEST_UNKNOWN');
  }
  assert.equal(
    errorCode((await r.req('GET', `/v2/${NAME}/manifests/sha256:abc`)).body),
    'DIGEST_INVALID',
    'a malformed digest is still invalid',
  );
});

test('an index listing a referrer keeps the referrer in the referrers list, with its subject and annotations', async (t) => {
  const r = await registry(t);
  const subject = await image(r, '1.0');
  const empty = await r.blob(Buffer.from('{}'), 'application/vnd.oci.empty.v1+json');
  const payload = await r.blob(Buffer.from('signature'), 'application/vnd.dev.sig');
  const sig = await r.manifest({
    schemaVersion: 2,
    mediaType: MANIFEST,
    artifactType: 'application/vnd.dev.sig',
    config: empty,
    layers: [payload],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { 'dev.note': 'signed' },
  });
  assert.deepEqual(
    (await r.referrers(subject.digest)).map((m) => m.digest),
    [sig.digest],
  );
  await r.manifest(
    { schemaVersion: 2, mediaType: INDEX, manifests: [{ mediaType: MANIFEST, digest: sig.digest, size: sig.size }] },
    'bundle',
  );
  const after = await r.referrers(subject.digest);
  assert.deepEqual(after, [
    {
      mediaType: MANIFEST,
      digest: sig.digest,
      size: sig.size,
      artifactType: 'application/vnd.dev.sig',
      annotations: { 'dev.note': 'signed' },
    },
  ]);
});

test('an index pushed first records its children from their own bytes: a child with a subject is a referrer', async (t) => {
  const r = await registry(t);
  const subject = await image(r, '1.0');
  const empty = await r.blob(Buffer.from('{}'), 'application/vnd.oci.empty.v1+json');
  const child = json({
    schemaVersion: 2,
    mediaType: MANIFEST,
    artifactType: 'application/vnd.dev.sbom',
    config: empty,
    layers: [],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
  });
  // The child's bytes reach the store as a blob, as a client pushing the index's parts would leave them.
  const childDesc = await r.blob(child, MANIFEST);
  await r.manifest({ schemaVersion: 2, mediaType: INDEX, manifests: [childDesc] }, 'all');
  assert.deepEqual(
    (await r.referrers(subject.digest)).map((m) => [m.digest, m.artifactType]),
    [[childDesc.digest, 'application/vnd.dev.sbom']],
  );
});

test('the view never lets a bare copy of a manifest (from an older index push) hide what its own record says', () => {
  const subject = `sha256:${'5'.repeat(64)}`;
  const sig = `sha256:${'6'.repeat(64)}`;
  const index = `sha256:${'7'.repeat(64)}`;
  const artifact = (id: number, digest: string, tag: string | undefined, manifests: Record<string, unknown>[]): StoredArtifact => ({
    id,
    ecosystem: 'oci',
    key: `${NAME}${tag ? `:${tag}` : ''}@${digest}`,
    name: NAME,
    version: tag ?? digest,
    digest: digest as `sha256:${string}`,
    size: 10,
    metadata: { refName: NAME, ...(tag ? { tag } : {}), platforms: [], manifests },
    blobs: [],
    bundleId: null,
    createdAt: '',
  });
  const view = new RegistryView([
    artifact(1, sig, undefined, [{ digest: sig, mediaType: MANIFEST, size: 10, subject, artifactType: 'application/vnd.dev.sig' }]),
    artifact(2, index, 'x', [
      { digest: index, mediaType: INDEX, size: 10 },
      { digest: sig, mediaType: MANIFEST, size: 10 },
    ]),
  ]);
  assert.deepEqual(view.find(NAME)!.manifests.get(sig as `sha256:${string}`), {
    digest: sig,
    mediaType: MANIFEST,
    size: 10,
    subject,
    artifactType: 'application/vnd.dev.sig',
  });
});

test('a referrer without artifactType is listed, and filtered, by its config media type', async (t) => {
  const r = await registry(t);
  const subject = await image(r, '1.0');
  const config = await r.blob(json({ sbom: true }), 'application/vnd.dev.sbom.config');
  const sbom = await r.manifest({
    schemaVersion: 2,
    mediaType: MANIFEST,
    config,
    layers: [],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
  });
  assert.deepEqual(
    (await r.referrers(subject.digest)).map((m) => [m.digest, m.artifactType]),
    [[sbom.digest, 'application/vnd.dev.sbom.config']],
  );
  assert.deepEqual(
    (await r.referrers(subject.digest, 'application/vnd.dev.sbom.config')).map((m) => m.digest),
    [sbom.digest],
  );
  assert.deepEqual(await r.referrers(subject.digest, 'application/vnd.other'), []);
});

test('sha512: blobs (whole, chunked, mounted) and manifests push and pull by their sha512 digest', async (t) => {
  const r = await registry(t);
  const layerBytes = Buffer.from('a layer named by sha512');
  const layer = await r.blob(layerBytes, 'application/vnd.oci.image.layer.v1.tar', sha512(layerBytes));
  for (const method of ['GET', 'HEAD'] as const) {
    const got = await r.req(method, `/v2/${NAME}/blobs/${layer.digest}`);
    assert.equal(got.statusCode, 200, got.body);
    assert.equal(got.headers['docker-content-digest'], layer.digest);
    assert.equal(got.headers['content-length'], String(layerBytes.length));
    if (method === 'GET') assert.equal(got.body, layerBytes.toString());
  }
  const wrong = await r.req('POST', `/v2/${NAME}/blobs/uploads/?digest=${sha512(Buffer.from('other'))}`, layerBytes);
  assert.equal(wrong.statusCode, 400);
  assert.equal(errorCode(wrong.body), 'DIGEST_INVALID');

  // Chunked, with the spec's digest-algorithm hint.
  const configBytes = json({ os: 'linux', architecture: 'arm64' });
  const started = await r.req('POST', `/v2/${NAME}/blobs/uploads/?digest-algorithm=sha512`);
  assert.equal(started.statusCode, 202);
  const location = started.headers.location as string;
  const patched = await r.req('PATCH', location, configBytes.subarray(0, 10), {
    'content-range': '0-9',
    'content-type': 'application/octet-stream',
  });
  assert.equal(patched.statusCode, 202, patched.body);
  const closed = await r.req('PUT', `${location}?digest=${sha512(configBytes)}`, configBytes.subarray(10), {
    'content-range': `10-${configBytes.length - 1}`,
    'content-type': 'application/octet-stream',
  });
  assert.equal(closed.statusCode, 201, closed.body);
  assert.equal(closed.headers['docker-content-digest'], sha512(configBytes));
  const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha512(configBytes), size: configBytes.length };

  const mounted = await r.req('POST', `/v2/other/app/blobs/uploads/?mount=${layer.digest}&from=${NAME}`);
  assert.equal(mounted.statusCode, 201, mounted.body);
  assert.equal(mounted.headers.location, `/v2/other/app/blobs/${layer.digest}`);

  const man = await r.manifest({ schemaVersion: 2, mediaType: MANIFEST, config, layers: [layer] }, undefined, sha512);
  const index = await r.manifest(
    { schemaVersion: 2, mediaType: INDEX, manifests: [{ mediaType: man.mediaType, digest: man.digest, size: man.size }] },
    undefined,
    sha512,
  );
  for (const m of [man, index]) {
    for (const method of ['GET', 'HEAD'] as const) {
      const got = await r.req(method, `/v2/${NAME}/manifests/${m.digest}`);
      assert.equal(got.statusCode, 200, `${m.digest}: ${got.body}`);
      assert.equal(got.headers['docker-content-digest'], m.digest);
      assert.equal(got.headers['content-type'], m.mediaType);
      if (method === 'GET') assert.equal(got.body, m.bytes.toString());
    }
  }
  const mismatch = await r.req('PUT', `/v2/${NAME}/manifests/${sha512(Buffer.from('x'))}`, man.bytes, { 'content-type': MANIFEST });
  assert.equal(errorCode(mismatch.body), 'DIGEST_INVALID');
  const deleted = await r.req('DELETE', `/v2/${NAME}/manifests/${index.digest}`);
  assert.equal(deleted.statusCode, 202, deleted.body);
  assert.equal((await r.req('GET', `/v2/${NAME}/manifests/${index.digest}`)).statusCode, 404);
});

test('sha512: a referrer of a manifest named by sha512 is listed under the subject it names', async (t) => {
  const r = await registry(t);
  const configBytes = json({ os: 'linux' });
  const config = await r.blob(configBytes, 'application/vnd.oci.image.config.v1+json', sha512(configBytes));
  const subject = await r.manifest({ schemaVersion: 2, mediaType: MANIFEST, config, layers: [] }, undefined, sha512);
  const sig = await r.manifest(
    {
      schemaVersion: 2,
      mediaType: MANIFEST,
      artifactType: 'application/vnd.dev.sig',
      config,
      layers: [],
      subject: { mediaType: MANIFEST, digest: subject.digest, size: subject.size },
    },
    undefined,
    sha512,
  );
  assert.deepEqual(
    (await r.referrers(subject.digest)).map((m) => [m.digest, m.artifactType]),
    [[sig.digest, 'application/vnd.dev.sig']],
  );
});

test('foreign (non-distributable) layers need not be pushed; any other missing layer is still refused', async (t) => {
  const r = await registry(t);
  const config = await r.blob(json({ os: 'windows' }), 'application/vnd.oci.image.config.v1+json');
  const local = await r.blob(Buffer.from('a pushed layer'), 'application/vnd.oci.image.layer.v1.tar');
  const never = (mediaType: string, seed: string) => ({
    mediaType,
    digest: sha256(Buffer.from(seed)),
    size: 12345,
    urls: ['https://example.invalid/layer'],
  });
  const foreign = [
    never('application/vnd.oci.image.layer.nondistributable.v1.tar', 'nd'),
    never('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'nd-gz'),
    never('application/vnd.oci.image.layer.nondistributable.v1.tar+zstd', 'nd-zstd'),
  ];
  const oci = await r.manifest({ schemaVersion: 2, mediaType: MANIFEST, config, layers: [...foreign, local] }, 'oci');
  assert.equal((await r.req('GET', `/v2/${NAME}/manifests/oci`)).body, oci.bytes.toString());
  const docker = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: { ...config, mediaType: 'application/vnd.docker.container.image.v1+json' },
    layers: [never('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', 'win'), local],
  };
  await r.manifest(docker, 'docker');
  assert.equal(
    (await r.req('GET', `/v2/${NAME}/blobs/${foreign[0]!.digest}`)).statusCode,
    404,
    'a foreign layer is not served: it was never here',
  );
  const missing = await r.req(
    'PUT',
    `/v2/${NAME}/manifests/bad`,
    json({ schemaVersion: 2, mediaType: MANIFEST, config, layers: [never('application/vnd.oci.image.layer.v1.tar', 'gone')] }),
    { 'content-type': MANIFEST },
  );
  assert.equal(missing.statusCode, 400);
  assert.equal(errorCode(missing.body), 'MANIFEST_BLOB_UNKNOWN');
});

test('a chunk that does not start at the upload offset is 416 with the spec error body, by PATCH or by the closing PUT', async (t) => {
  const r = await registry(t);
  const body = Buffer.from('0123456789abcdefghij');
  const started = await r.req('POST', `/v2/${NAME}/blobs/uploads/`);
  const location = started.headers.location as string;
  assert.equal((await r.req('PATCH', location, body.subarray(0, 5), { 'content-range': '0-4' })).statusCode, 202);
  const status = async () => {
    const s = await r.req('GET', location);
    assert.equal(s.statusCode, 204);
    return s.headers.range;
  };
  for (const [method, url, range, chunk] of [
    ['PATCH', location, '10-14', body.subarray(10, 15)],
    ['PATCH', location, '0-4', body.subarray(0, 5)],
    ['PUT', `${location}?digest=${sha256(body)}`, '15-19', body.subarray(15)],
    ['PUT', `${location}?digest=${sha256(body)}`, '0-19', body],
  ] as const) {
    const res = await r.req(method, url, chunk, { 'content-range': range, 'content-type': 'application/octet-stream' });
    assert.equal(res.statusCode, 416, `${method} ${range}: ${res.body}`);
    assert.equal(errorCode(res.body), 'BLOB_UPLOAD_INVALID');
    assert.equal(res.headers.location, location);
    assert.equal(res.headers.range, '0-4');
    assert.equal(await status(), '0-4', `${method} ${range}: the session keeps what it had`);
  }
  const done = await r.req('PUT', `${location}?digest=${sha256(body)}`, body.subarray(5), {
    'content-range': '5-19',
    'content-type': 'application/octet-stream',
  });
  assert.equal(done.statusCode, 201, done.body);
  assert.equal((await r.req('GET', `/v2/${NAME}/blobs/${sha256(body)}`)).body, body.toString());
});
