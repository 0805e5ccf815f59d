import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyServer } from '../helpers/server.js';

test('a JSON body nested deeper than 64 levels is a 400 on any route, before a handler sees it', async (t) => {
  const { server } = await emptyServer(t);
  const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
  const r = await server.inject({
    method: 'POST',
    url: '/hf/api/models/acme/m/paths-info/main',
    headers: { 'content-type': 'application/json' },
    payload: deep,
  });
  assert.equal(r.statusCode, 400, r.body);
  assert.match(r.body, /nested deeper than 64 levels/);
});
