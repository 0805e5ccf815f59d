import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store.js';
import { acquireWriteLock } from '../../src/core/write-lock.js';
import { buildServer } from '../../src/server/app.js';
import { createToken } from '../../src/services/tokens.js';
import { tempDir } from '../helpers/tmp.js';

test("a write that cannot get the store lock in time answers 503 with Retry-After in the protocol's own error body", async (t) => {
  const store = await Store.open(join(await tempDir(t), 'home'));
  const token = await createToken(store, 'ci', 'publisher');
  const server = await buildServer({ store, baseUrl: 'http://mirror', auth: 'none' });
  const before = process.env.AIRLOCK_LOCK_TIMEOUT_MS;
  process.env.AIRLOCK_LOCK_TIMEOUT_MS = '300';
  // Another writer (an import, say) holds the lock for the whole test.
  const release = await acquireWriteLock(join(store.home, 'write.lock'), 'import', 1000);
  t.after(async () => {
    await release();
    if (before === undefined) delete process.env.AIRLOCK_LOCK_TIMEOUT_MS;
    else process.env.AIRLOCK_LOCK_TIMEOUT_MS = before;
    await server.close();
    await store.close();
  });
  const auth = { authorization: `Bearer ${token}` };

  const blob = Buffer.from('layer');
  const { createHash } = await import('node:crypto');
  const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
  const oci = await server.inject({
    method: 'POST',
    url: `/v2/team/app/blobs/uploads/?digest=${digest}`,
    headers: { ...auth, 'content-type': 'application/octet-stream' },
    payload: blob,
  });
  assert.equal(oci.statusCode, 503, oci.body);
  assert.equal(oci.headers['retry-after'], '5');
  const body = oci.json() as { errors: { code: string; message: string }[] };
  assert.equal(body.errors[0]!.code, 'UNAVAILABLE');
  assert.equal(body.errors[0]!.message, 'the store is busy with another write; retry after 5 s');

  const npm = await server.inject({ method: 'DELETE', url: '/npm/left-pad/-rev/1-abc', headers: auth });
  assert.equal(npm.statusCode, 503, npm.body);
  assert.equal(npm.headers['retry-after'], '5');
  assert.deepEqual(
    npm.json(),
    { error: 'the store is busy with another write; retry after 5 s' },
    'npm prints `error` from its own body shape',
  );
});
