import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { createToken } from '../../src/services/tokens.js';
import { emptyServer } from '../helpers/server.js';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

test('oci push: annotations nested deep, or not strings, are MANIFEST_INVALID and nothing is stored', async (t) => {
  const { store, server } = await emptyServer(t);
  const authorization = `Bearer ${await createToken(store, 'ci', 'publisher')}`;
  const config = Buffer.from('{"os":"linux","architecture":"amd64"}');
  const up = await server.inject({
    method: 'POST',
    url: `/v2/team/app/blobs/uploads/?digest=${sha256(config)}`,
    headers: { authorization, 'content-type': 'application/octet-stream' },
    payload: config,
  });
  assert.equal(up.statusCode, 201);
  const doc = (annotations: string) =>
    Buffer.from(
      `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"${sha256(config)}","size":${config.length}},"layers":[],"annotations":${annotations}}`,
    );
  for (const [what, annotations, message] of [
    ['nested 5,000 deep', `${'{"a":'.repeat(5000)}"x"${'}'.repeat(5000)}`, 'manifest is nested deeper than 64 levels'],
    ['a non-string value', '{"a":{"b":"c"}}', 'annotations must map strings to strings'],
  ] as const) {
    const bytes = doc(annotations);
    const r = await server.inject({
      method: 'PUT',
      url: '/v2/team/app/manifests/v1',
      headers: { authorization, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      payload: bytes,
    });
    assert.equal(r.statusCode, 400, `${what}: ${r.body}`);
    assert.deepEqual(
      (r.json() as { errors: { code: string; message: string }[] }).errors.map((e) => [e.code, e.message]),
      [['MANIFEST_INVALID', message]],
    );
    assert.equal(await store.blobs.stat(sha256(bytes) as `sha256:${string}`), undefined, `${what}: no orphan blob`);
  }
  assert.deepEqual(await store.meta.listArtifacts({ ecosystem: 'oci' }), []);
});
