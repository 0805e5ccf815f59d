import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile, stat } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect } from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { digestOf } from '../../src/core/digest.js';
import { HttpClient } from '../../src/core/http.js';
import { bytes } from '../helpers/seed.js';
import { tempDir } from '../helpers/tmp.js';
import { startUpstream } from '../helpers/upstream.js';

const BODY = bytes(200_000, 17);

function client(t: TestContext, opts: ConstructorParameters<typeof HttpClient>[0] = {}): HttpClient {
  const c = new HttpClient({ backoffMs: 1, retries: 3, ...opts });
  t.after(() => c.close());
  return c;
}

async function listen(t: TestContext, server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as { port: number }).port;
}

test('download verifies the digest; a mismatch names both digests and leaves nothing', async (t) => {
  const dir = await tempDir(t);
  const up = await startUpstream(t, { '/a': { body: BODY } });
  const c = client(t);
  const ok = await c.download({ url: `${up.url}/a`, dest: join(dir, 'a'), expectedDigest: digestOf(BODY), expectedSize: BODY.length });
  assert.deepEqual(ok, { digest: digestOf(BODY), size: BODY.length });
  const wrong = digestOf('something else');
  await assert.rejects(c.download({ url: `${up.url}/a`, dest: join(dir, 'b'), expectedDigest: wrong, label: 'files:b' }), {
    code: 'DIGEST_MISMATCH',
    message: `files:b: expected ${wrong}, got ${digestOf(BODY)}`,
  });
  await assert.rejects(stat(join(dir, 'b')), { code: 'ENOENT' });
  await assert.rejects(c.download({ url: `${up.url}/a`, dest: join(dir, 'c'), expectedSize: 5, label: 'files:c' }), {
    code: 'SIZE_MISMATCH',
  });
});

test('a server that ignores Range restarts cleanly; 416 on a complete partial means done', async (t) => {
  const dir = await tempDir(t);
  let mode: 'ignore' | '416' = 'ignore';
  const server = createHttpServer((req, res) => {
    if (mode === '416' && req.headers.range) res.writeHead(416, { 'content-range': `bytes */${BODY.length}` }).end();
    else res.writeHead(200, { 'content-length': BODY.length }).end(BODY);
  });
  const port = await listen(t, server);
  const c = client(t);
  const dest = join(dir, 'p');
  await writeFile(dest, Buffer.from('garbage that is not the start of the file'));
  const r = await c.download({ url: `http://127.0.0.1:${port}/`, dest, expectedDigest: digestOf(BODY) });
  assert.equal(r.size, BODY.length);
  mode = '416';
  const again = await c.download({ url: `http://127.0.0.1:${port}/`, dest, expectedDigest: digestOf(BODY) });
  assert.equal(again.digest, digestOf(BODY));
});

test('remoteSize: HEAD, else a one-byte Range (an empty file answers 416), else the length of an answer that ignores Range; 404 names the label', async (t) => {
  const up = await startUpstream(t, {
    '/head': { body: BODY },
    '/range': { body: BODY, noHead: true },
    '/empty': { body: Buffer.alloc(0), noHead: true },
    '/plain': { body: BODY, noHead: true, noRange: true },
    '/chunked': { body: BODY, noHead: true, noRange: true, chunked: true },
  });
  const c = client(t);
  const sizes = [];
  for (const p of ['/head', '/range', '/empty', '/plain', '/chunked']) sizes.push(await c.remoteSize(`${up.url}${p}`));
  assert.deepEqual(sizes, [BODY.length, BODY.length, 0, BODY.length, undefined]);
  await assert.rejects(
    c.remoteSize(`${up.url}/nope`, { label: 'files:nope' }),
    /files:nope: http:\/\/127\.0\.0\.1:\d+\/nope returned 404 Not Found/,
  );
});

test('a partial file from an earlier run is resumed, not re-downloaded', async (t) => {
  const dir = await tempDir(t);
  const up = await startUpstream(t, { '/a': { body: BODY } });
  const dest = join(dir, 'a');
  await writeFile(dest, BODY.subarray(0, 123_456));
  const r = await client(t).download({ url: `${up.url}/a`, dest, expectedDigest: digestOf(BODY) });
  assert.equal(r.digest, digestOf(BODY));
  assert.deepEqual(
    up.requests.map((q) => q.range),
    ['bytes=123456-'],
  );
});

test('retries give up with a message naming the label, URL and last failure', async (t) => {
  const dir = await tempDir(t);
  const up = await startUpstream(t, { '/down': { body: BODY, failFirst: 99 } });
  await assert.rejects(client(t).download({ url: `${up.url}/down`, dest: join(dir, 'x'), label: 'files:down' }), {
    code: 'NETWORK_ERROR',
    message: new RegExp(`^files:down: ${up.url}/down failed after 4 attempts: HTTP 500$`),
  });
  const refused = client(t, { retries: 1 });
  await assert.rejects(
    refused.download({ url: 'http://127.0.0.1:1/x', dest: join(dir, 'y'), label: 'files:y' }),
    /files:y: .* failed after 2 attempts: .*ECONNREFUSED/,
  );
});

test('HTTP_PROXY is honoured', async (t) => {
  const dir = await tempDir(t);
  const up = await startUpstream(t, { '/a': { body: BODY } });
  let proxied = 0;
  const proxy = createHttpServer((req, res) => {
    proxied++;
    const fwd = httpRequest(req.url!, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    req.pipe(fwd);
  });
  proxy.on('connect', (req, socket) => {
    proxied++;
    const [host, port] = req.url!.split(':');
    const upstream = connect(Number(port), host!, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  const port = await listen(t, proxy);
  const saved = {
    HTTP_PROXY: process.env.HTTP_PROXY,
    NO_PROXY: process.env.NO_PROXY,
    no_proxy: process.env.no_proxy,
    http_proxy: process.env.http_proxy,
  };
  t.after(() => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  });
  delete process.env.http_proxy;
  delete process.env.NO_PROXY;
  delete process.env.no_proxy;
  process.env.HTTP_PROXY = `http://127.0.0.1:${port}`;
  const r = await client(t).download({ url: `${up.url}/a`, dest: join(dir, 'a'), expectedDigest: digestOf(BODY) });
  assert.equal(r.size, BODY.length);
  assert.ok(proxied >= 1, 'the request went through the proxy');
});

test('--ca-file trusts a private CA; without it the download fails', async (t) => {
  if (spawnSync('openssl', ['version']).status !== 0) {
    t.skip('openssl is not installed');
    return;
  }
  const dir = await tempDir(t);
  const made = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-days',
    '1',
    '-keyout',
    join(dir, 'key.pem'),
    '-out',
    join(dir, 'cert.pem'),
  ]);
  assert.equal(made.status, 0, made.stderr?.toString());
  const server = createHttpsServer(
    { key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) },
    (_req, res) => {
      res.writeHead(200, { 'content-length': BODY.length }).end(BODY);
    },
  );
  const port = await listen(t, server as unknown as Server);
  const url = `https://127.0.0.1:${port}/`;
  const trusted = await client(t, { caFile: join(dir, 'cert.pem') }).download({
    url,
    dest: join(dir, 'ok'),
    expectedDigest: digestOf(BODY),
  });
  assert.equal(trusted.size, BODY.length);
  await assert.rejects(client(t, { retries: 0 }).download({ url, dest: join(dir, 'no') }), /certificate|self.signed/i);
  await assert.rejects(client(t, { caFile: join(dir, 'missing.pem') }).download({ url, dest: join(dir, 'no2') }), /CA file .*missing\.pem/);
});
