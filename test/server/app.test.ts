import assert from 'node:assert/strict';
import { get } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type TestContext, test } from 'node:test';
import { digestOf } from '../../src/core/digest.js';
import { Store } from '../../src/core/store.js';
import { parseChallenge } from '../../src/ecosystems/oci/challenge.js';
import { buildServer } from '../../src/server/app.js';
import { createToken } from '../../src/services/tokens.js';
import { bytes } from '../helpers/seed.js';
import { tempDir } from '../helpers/tmp.js';
import { putArtifacts } from '../helpers/meta.js';

const BODY = bytes(5000, 8);

/** A server over a store holding one file artifact (`key`, with `body`). */
async function app(t: TestContext, auth: 'none' | 'required', opts: { body?: Buffer; key?: string; idleTimeoutMs?: number } = {}) {
  const body = opts.body ?? BODY;
  const key = opts.key ?? 'dir/a b.bin';
  const store = await Store.open(join(await tempDir(t), 'home'));
  const digest = digestOf(body);
  await store.blobs.put(Readable.from([body]), key);
  await putArtifacts(
    store.meta,
    [{ ecosystem: 'files', key, name: key, version: '', digest, size: body.length, metadata: {}, blobs: [{ digest, size: body.length }] }],
    null,
  );
  const server = await buildServer({
    store,
    baseUrl: 'http://mirror',
    auth,
    ...(opts.idleTimeoutMs !== undefined ? { idleTimeoutMs: opts.idleTimeoutMs } : {}),
  });
  t.after(async () => {
    // A connection a test left stalled must not keep the server from closing.
    server.server.closeAllConnections();
    await server.close();
    await store.close();
  });
  return { store, server, digest };
}

const basic = (token: string): string => `Basic ${Buffer.from(`anyone:${token}`).toString('base64')}`;

test('files: full, ranged, conditional and HEAD responses carry the spec headers', async (t) => {
  const { server, digest } = await app(t, 'none');
  const url = '/files/dir/a%20b.bin';
  const full = await server.inject({ url });
  assert.equal(full.statusCode, 200);
  assert.deepEqual(full.rawPayload, BODY);
  assert.equal(full.headers.etag, `"${digest}"`);
  assert.equal(full.headers['content-length'], String(BODY.length));
  assert.equal(full.headers['accept-ranges'], 'bytes');
  assert.equal(full.headers['repr-digest'], `sha-256=:${Buffer.from(digest.slice(7), 'hex').toString('base64')}:`);

  const part = await server.inject({ url, headers: { range: 'bytes=100-199' } });
  assert.equal(part.statusCode, 206);
  assert.equal(part.headers['content-range'], `bytes 100-199/${BODY.length}`);
  assert.deepEqual(part.rawPayload, BODY.subarray(100, 200));

  const beyond = await server.inject({ url, headers: { range: 'bytes=9999-' } });
  assert.equal(beyond.statusCode, 416);
  assert.equal(beyond.headers['content-range'], `bytes */${BODY.length}`);

  const cached = await server.inject({ url, headers: { 'if-none-match': `"${digest}"` } });
  assert.equal(cached.statusCode, 304);

  const head = await server.inject({ url, method: 'HEAD' });
  assert.equal(head.statusCode, 200);
  assert.equal(head.headers['content-length'], String(BODY.length));
  assert.equal(head.rawPayload.length, 0);

  for (const bad of ['/files/nope', '/files/dir%2f..%2fdir/a%20b.bin', '/files/%2e%2e/airlock.db', '/files/a%00b', '/files/']) {
    const r = await server.inject({ url: bad });
    assert.equal(r.statusCode, 404, bad);
    assert.equal((r.json() as { error: { code: string } }).error.code, 'NOT_FOUND');
  }
  const listing = await server.inject({ url: '/api/artifacts?ecosystem=files' });
  assert.deepEqual(
    (listing.json() as { key: string }[]).map((a) => a.key),
    ['dir/a b.bin'],
  );
});

test('auth required: reads need a reader token, writes a publisher, healthz stays open', async (t) => {
  const { store, server } = await app(t, 'required');
  const reader = await createToken(store, 'r', 'reader');
  const publisher = await createToken(store, 'p', 'publisher');
  const url = '/files/dir/a%20b.bin';

  assert.equal((await server.inject({ url: '/healthz' })).statusCode, 200);
  const anon = await server.inject({ url });
  assert.equal(anon.statusCode, 401);
  assert.equal(anon.headers['www-authenticate'], 'Basic realm="airlock"');
  assert.equal((await server.inject({ url, headers: { authorization: basic(reader) } })).statusCode, 200);
  assert.equal((await server.inject({ url, headers: { authorization: `Bearer ${reader}` } })).statusCode, 200);
  assert.equal((await server.inject({ url, headers: { authorization: basic('airlock_forged') } })).statusCode, 401);

  const write = await server.inject({ url, method: 'POST', headers: { authorization: basic(reader) } });
  assert.equal(write.statusCode, 403);
  assert.match((write.json() as { error: { message: string } }).error.message, /needs a publisher token/);
  // A publisher passes auth; there is no upload route for files, so routing answers.
  assert.equal((await server.inject({ url, method: 'POST', headers: { authorization: basic(publisher) } })).statusCode, 404);
});

test('auth none: writes still need a publisher token', async (t) => {
  const { server } = await app(t, 'none');
  assert.equal((await server.inject({ url: '/files/x', method: 'PUT' })).statusCode, 401);
});

test('registry auth: the ping challenges with Bearer at /v2/token; the anonymous token reads only where reads are open', async (t) => {
  for (const mode of ['none', 'required'] as const) {
    const { store, server } = await app(t, mode);
    const publisher = await createToken(store, 'p', 'publisher');
    const ping = (authorization?: string) => server.inject({ url: '/v2/', headers: authorization ? { authorization } : {} });
    const anon = await ping();
    assert.equal(anon.statusCode, 401);
    const challenge = parseChallenge(anon.headers['www-authenticate'] as string);
    assert.deepEqual(challenge, { scheme: 'bearer', params: { realm: 'http://mirror/v2/token', service: 'airlock' } });
    assert.equal((anon.json() as { errors: { code: string }[] }).errors[0]!.code, 'UNAUTHORIZED');

    const issued = await server.inject({ url: `/v2/token?service=airlock&scope=repository:a/b:pull` });
    assert.equal(issued.statusCode, mode === 'none' ? 200 : 401, `${mode}: a token without credentials`);
    if (mode === 'none') assert.equal((issued.json() as { token: string }).token, 'anonymous');
    assert.equal((await ping('Bearer anonymous')).statusCode, mode === 'none' ? 200 : 401, `${mode}: the anonymous token at the ping`);
    assert.equal((await ping(basic('airlock_forged'))).statusCode, 401, `${mode}: a forged token`);

    const real = await server.inject({
      url: '/v2/token?service=airlock&scope=repository:a/b:push,pull',
      headers: { authorization: basic(publisher) },
    });
    assert.equal(real.statusCode, 200);
    const bearer = `Bearer ${(real.json() as { token: string }).token}`;
    assert.equal(bearer, `Bearer ${publisher}`, 'the token handed out is the one presented');
    const again = await server.inject({ url: '/v2/token?service=airlock', headers: { authorization: bearer } });
    assert.equal((again.json() as { token: string }).token, publisher, 'a Bearer token presented to the realm comes back as itself');
    assert.equal((await ping(bearer)).statusCode, 200);
    const upload = await server.inject({ url: '/v2/a/b/blobs/uploads/', method: 'POST', headers: { authorization: 'Bearer anonymous' } });
    assert.equal(upload.statusCode, 401, `${mode}: the anonymous token never writes`);
    assert.equal(
      parseChallenge(upload.headers['www-authenticate'] as string)?.scheme,
      'bearer',
      'every 401 under /v2/ names the same realm',
    );
    assert.equal(
      (await server.inject({ url: '/v2/a/b/blobs/uploads/', method: 'POST', headers: { authorization: bearer } })).statusCode,
      202,
    );
  }
});

/** A GET whose reader stalls after the first chunk, so the server has to wait on the socket. */
function slowGet(url: string): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      const parts: Buffer[] = [];
      res.once('data', () => {
        res.pause();
        setTimeout(() => res.resume(), 300);
      });
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

test('large blobs are pumped through reused buffers: whole, ranged across chunks, and a client that leaves mid-way', async (t) => {
  // Larger than loopback's socket buffers, and read slowly below, so the server's writes queue
  // up: a buffer refilled before the socket took it would show in the body.
  const big = bytes(24 * (1 << 20) + 12345, 9);
  const { store, server, digest } = await app(t, 'none', { body: big, key: 'big.bin' });
  const base = await server.listen({ host: '127.0.0.1', port: 0 });

  const whole = await slowGet(`${base}/files/big.bin`);
  assert.equal(whole.status, 200);
  assert.equal(whole.headers.etag, `"${digest}"`);
  assert.equal(whole.headers['content-length'], String(big.length));
  assert.ok(whole.body.equals(big), 'every reused buffer went out before it was refilled');

  const [start, end] = [(1 << 20) - 7, 2 * (1 << 20) + 99];
  const part = await fetch(`${base}/files/big.bin`, { headers: { range: `bytes=${start}-${end}` } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes ${start}-${end}/${big.length}`);
  assert.ok(Buffer.from(await part.arrayBuffer()).equals(big.subarray(start, end + 1)));

  await new Promise<void>((resolve) => {
    const leaving = get(`${base}/files/big.bin`, (res) => res.once('data', () => (leaving.destroy(), resolve())));
    leaving.on('error', () => {});
  });
  const again = await fetch(`${base}/files/big.bin`);
  assert.ok(Buffer.from(await again.arrayBuffer()).equals(big), 'the server goes on serving');

  // A blob missing from disk is an ordinary error answer, not a cut connection.
  await store.blobs.delete(digest);
  assert.equal((await fetch(`${base}/files/big.bin`)).status, 500);
});

test(
  'a client that stops reading is cut off once nothing has moved for the idle timeout; the server serves on',
  { timeout: 30_000 },
  async (t) => {
    const big = bytes(16 * (1 << 20), 5);
    const { server } = await app(t, 'none', { body: big, key: 'big.bin', idleTimeoutMs: 500 });
    const base = await server.listen({ host: '127.0.0.1', port: 0 });
    // The server's side of the connection closes; the paused reader only learns it once it reads again.
    const serverClosed = new Promise<void>((resolve) =>
      server.server.once('connection', (socket) => socket.once('close', () => resolve())),
    );
    const received = await new Promise<number>((resolve, reject) => {
      get(`${base}/files/big.bin`, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.once('data', () => {
          res.pause();
          void serverClosed.then(() => res.resume());
        });
        res.once('close', () => resolve(n));
      }).on('error', reject);
    });
    assert.ok(received < big.length, 'the stalled download was cut short');
    const again = await fetch(`${base}/files/big.bin`);
    assert.ok(Buffer.from(await again.arrayBuffer()).equals(big), 'and the next client gets the whole blob');
  },
);
