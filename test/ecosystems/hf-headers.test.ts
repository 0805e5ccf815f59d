import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headerSafe } from '../../src/ecosystems/http/errors.js';
import { emptyServer } from '../helpers/server.js';

/** Path segments a client can send that no header may carry as they are: CR/LF, NUL, beyond latin-1, and a broken escape. */
const HOSTILE = ['a%0D%0AX-Injected:%201', 'a%00b', '%E2%82%AC', '%F0%9F%98%80', '%25E0'];

test('hf: a path with control characters or non-latin-1 characters is a 404 with a header-safe X-Error-Message, never a 500', async (t) => {
  const { server: app } = await emptyServer(t);
  for (const bad of HOSTILE) {
    for (const url of [
      `/hf/${bad}`,
      `/hf/api/models/acme/${bad}`,
      `/hf/api/models/acme/m/revision/${bad}`,
      `/hf/api/models/acme/m/tree/main/${bad}`,
      `/hf/acme/m/resolve/${bad}/f.bin`,
    ]) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 404, `${url}: ${res.body}`);
      assert.equal(res.headers['x-injected'], undefined, url);
      const header = String(res.headers['x-error-message']);
      assert.match(header, /^[\x20-\x7e]*$/, `${url}: ${header}`);
      assert.ok((JSON.parse(res.body) as { error: string }).error.length > 0);
    }
  }
});

test('other ecosystems: hostile path segments never make a 500', async (t) => {
  const { server: app } = await emptyServer(t);
  for (const bad of HOSTILE) {
    for (const url of [
      `/files/${bad}`,
      `/pypi/simple/${bad}/`,
      `/pypi/simple/${bad}`,
      `/npm/${bad}`,
      `/conda/${bad}/repodata.json`,
      `/v2/${bad}/tags/list`,
      `/v2/acme/manifests/${bad}`,
      `/v2/acme/blobs/uploads/${bad}`,
    ]) {
      const res = await app.inject({ url });
      assert.ok(res.statusCode < 500, `${url}: ${res.statusCode} ${res.body}`);
      for (const [k, v] of Object.entries(res.headers)) assert.match(String(v), /^[\x20-\xff]*$/, `${url}: ${k}`);
    }
  }
});

test('headerSafe keeps printable ASCII and percent-encodes the rest as UTF-8', () => {
  assert.equal(headerSafe('a b/c'), 'a b/c');
  assert.equal(headerSafe('a\r\nb\0€'), 'a%0D%0Ab%00%E2%82%AC');
  assert.equal(headerSafe('100%'), '100%25');
  assert.equal(headerSafe('\ud800x'), '%EF%BF%BDx');
});
