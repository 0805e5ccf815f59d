import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { digestOf } from '../../src/core/digest.js';
import { createToken } from '../../src/services/tokens.js';
import { emptyServer } from '../helpers/server.js';

function form(fields: Record<string, string>, file: { name: string; data: Buffer }): { payload: Buffer; headers: Record<string, string> } {
  const b = '----airlocktest';
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields))
    parts.push(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  parts.push(
    Buffer.from(
      `--${b}\r\nContent-Disposition: form-data; name="content"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    file.data,
    Buffer.from('\r\n'),
  );
  parts.push(Buffer.from(`--${b}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${b}` } };
}

async function server(t: TestContext) {
  const { store, server: app } = await emptyServer(t);
  const publisher = `Basic ${Buffer.from(`__token__:${await createToken(store, 'p', 'publisher')}`).toString('base64')}`;
  const upload = (name: string, filename: string) => {
    const data = Buffer.from(`an sdist of ${name}`);
    const f = form({ ':action': 'file_upload', name, version: '1.0', sha256_digest: digestOf(data).slice(7) }, { name: filename, data });
    return app.inject({ method: 'POST', url: '/pypi/legacy/', payload: f.payload, headers: { ...f.headers, authorization: publisher } });
  };
  return { store, upload };
}

test('upload: a project name that is not a PEP 508 name is refused with 400 and one line, and nothing is stored', async (t) => {
  const { store, upload } = await server(t);
  for (const name of ['xss<img src=x>', '-lead', 'trail.', 'sp ace', 'a!b', 'ü']) {
    const res = await upload(name, `${name}-1.0.tar.gz`);
    assert.equal(res.statusCode, 400, `${name}: ${res.body}`);
    const message = (JSON.parse(res.body) as { error: { message: string } }).error.message;
    assert.match(message, /is not a valid project name \(PEP 508/);
    assert.ok(!message.includes('\n'));
  }
  assert.deepEqual(await store.meta.listArtifacts(), []);
  assert.equal((await upload('Good.Name_2', 'good_name_2-1.0.tar.gz')).statusCode, 200);
});
