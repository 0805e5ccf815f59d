import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { HttpClient } from '../../src/core/http.js';
import { tempDir } from '../helpers/tmp.js';

/** A client that would take minutes over its retries if it made them: each backoff is 2 s and up. */
function slowRetrier(t: TestContext): HttpClient {
  const c = new HttpClient({ backoffMs: 2000, retries: 4 });
  t.after(() => c.close());
  return c;
}

test('URLs that cannot succeed on a retry fail at once, in one line naming the URL', async (t) => {
  const dir = await tempDir(t);
  const c = slowRetrier(t);
  for (const url of [
    'file:///etc/passwd',
    'ftp://example.org/a',
    'data:text/plain,hi',
    'gopher://example.org/a',
    'not a url',
    'http://[::1',
  ]) {
    const started = Date.now();
    await assert.rejects(c.download({ url, dest: join(dir, 'x'), label: 'files:x' }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'HTTP_ERROR', e.message);
      assert.ok(e.message.startsWith(`files:x: ${url}: `), e.message);
      assert.doesNotMatch(e.message, /attempts/);
      return true;
    });
    await assert.rejects(c.fetchSmall(url, { maxBytes: 10, label: 'probe' }), { code: 'HTTP_ERROR' });
    await assert.rejects(c.getText(url), { code: 'HTTP_ERROR' });
    assert.ok(Date.now() - started < 1500, `${url}: retried (${Date.now() - started} ms)`);
  }
});

test('a 4xx other than 408 and 429 is answered once; a 503 is still retried', async (t) => {
  let hits = 0;
  let status = 403;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(status).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/a`;
  const c = new HttpClient({ backoffMs: 1, retries: 3 });
  t.after(() => c.close());
  const dir = await tempDir(t);
  await assert.rejects(c.download({ url, dest: join(dir, 'a') }), { code: 'HTTP_ERROR' });
  assert.equal(hits, 1);
  status = 503;
  hits = 0;
  await assert.rejects(c.download({ url, dest: join(dir, 'b') }), { code: 'NETWORK_ERROR' });
  assert.equal(hits, 4);
});
