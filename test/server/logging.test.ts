import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { AIRLOCK, REPO, airlock, run } from '../helpers/cli.js';
import { emptyServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

interface LogLine {
  level: number;
  reqId?: string;
  msg?: string;
  method?: string;
  path?: string;
  status?: number;
  ms?: number;
  err?: { message: string; stack: string };
}

function capture(): { stream: PassThrough; lines: () => LogLine[]; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return {
    stream,
    text: () => text,
    lines: () =>
      text
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as LogLine),
  };
}

test('a 500 names its request id in the body, and the log has the error with its stack under the same id', async (t) => {
  const log = capture();
  const { store, server } = await emptyServer(t, { logger: { level: 'info', stream: log.stream } });
  store.meta.listArtifacts = () => Promise.reject(new Error('the metadata database is damaged'));
  const res = await server.inject({ method: 'GET', url: '/api/artifacts?token=s3cret-value' });
  assert.equal(res.statusCode, 500);
  const { error } = res.json() as { error: { code: string; message: string } };
  assert.equal(error.code, 'INTERNAL');
  const id = /^internal error \(request (\S+)\)$/.exec(error.message)?.[1];
  assert.ok(id, error.message);
  const lines = log.lines();
  const failed = lines.find((l) => l.level === 50 && l.reqId === id);
  assert.ok(failed, `an error line for ${id}: ${log.text()}`);
  assert.equal(failed.err?.message, 'the metadata database is damaged');
  assert.match(failed.err?.stack ?? '', /Error: the metadata database is damaged\n\s+at /);
  const done = lines.find((l) => l.reqId === id && l.status !== undefined);
  assert.ok(done, `a request line for ${id}: ${log.text()}`);
  assert.equal(done.method, 'GET');
  assert.equal(done.path, '/api/artifacts');
  assert.equal(done.status, 500);
  assert.equal(typeof done.ms, 'number');
  assert.doesNotMatch(log.text(), /s3cret/, 'the query string (tokens, signatures) is never logged');
});

test('buildServer without a logger option writes nothing, not even for a 500', async (t) => {
  const dir = await tempDir(t);
  // In a child: pino writes to its file descriptor directly, past any process.stdout hook.
  const script = `
    const { Store } = await import(${JSON.stringify(new URL('../../src/core/store.js', import.meta.url).href)});
    const { buildServer } = await import(${JSON.stringify(new URL('../../src/server/app.js', import.meta.url).href)});
    const store = await Store.open(${JSON.stringify(join(dir, 'home'))});
    store.meta.listArtifacts = () => Promise.reject(new Error('boom'));
    const server = await buildServer({ store, baseUrl: 'http://mirror', auth: 'none' });
    const res = await server.inject({ method: 'GET', url: '/api/artifacts' });
    if (res.statusCode !== 500) throw new Error('expected a 500, got ' + res.statusCode);
    await server.close();
    await store.close();
  `;
  const r = await run(process.execPath, ['--input-type=module', '-e', script]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, '');
});

test('serve writes request logs as JSON lines to stderr; --log-level takes a pino level or is a usage error', async (t) => {
  const dir = await tempDir(t);
  const home = join(dir, 'home');
  const bad = await airlock(['--home', home, 'serve', '--log-level', 'loud']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--log-level: "loud" is not one of fatal, error, warn, info, debug, trace, silent/);
  const child = spawn(AIRLOCK, ['--home', home, 'serve', '--listen', '127.0.0.1:0'], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
  t.after(() => child.kill('SIGTERM'));
  let stderr = '';
  const address = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      const m = / at (http:\/\/\S+) /.exec(stderr);
      if (m) resolve(m[1]!);
    });
    child.on('exit', () => reject(new Error(`serve exited: ${stderr}`)));
  });
  assert.equal((await fetch(`${address}/healthz?sig=s3cret`)).status, 200);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  child.kill('SIGTERM');
  await exited;
  const lines = stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
  const line = lines.find((l) => l.path === '/healthz');
  assert.ok(line, stderr);
  assert.equal(line.status, 200);
  assert.equal(line.method, 'GET');
  assert.ok(line.reqId);
  assert.doesNotMatch(stderr, /s3cret/);
});
