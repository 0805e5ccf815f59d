import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { airlock } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

function errorLine(stderr: string): { code: string; message: string; hint?: string } {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr: ${stderr}`);
  return (JSON.parse(lines[0]!) as { error: { code: string; message: string; hint?: string } }).error;
}

test('--json: a usage error is one JSON line on stderr, nothing on stdout, exit 2', async (t) => {
  const dir = await tempDir(t);
  const r = await airlock(['--json', '--home', join(dir, 'home'), 'serve', '--nope'], { cwd: dir });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '');
  const e = errorLine(r.stderr);
  assert.equal(e.code, 'USAGE');
  assert.match(e.message, /unknown option '--nope'/);
  const bad = await airlock(['--home', join(dir, 'home'), 'serve', '--listen', 'nowhere', '--json'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.equal(errorLine(bad.stderr).code, 'USAGE');
});

test('--json: an upstream wheel that is not a zip fails lock with UPSTREAM_INVALID, not BUNDLE_INVALID', async (t) => {
  const dir = await tempDir(t);
  const junk = Buffer.from('this is not a zip archive at all, just bytes');
  const file = 'junk-1.0-py3-none-any.whl';
  const sha = createHash('sha256').update(junk).digest('hex');
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/simple/junk/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<a href="../../files/${file}#sha256=${sha}">${file}</a>`);
    } else if (path === `/files/${file}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': junk.length }).end(junk);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  t.after(() => new Promise<void>((res) => server.close(() => res())));
  const index = `http://127.0.0.1:${(server.address() as { port: number }).port}/simple/`;
  await writeFile(
    join(dir, 'airlock.yaml'),
    ['name: j', 'target: { platforms: [linux/amd64], python: ["3.12"] }', 'pypi:', `  index: ${index}`, '  requirements: [junk]', ''].join(
      '\n',
    ),
  );
  const r = await airlock(['--json', '--home', join(dir, 'home'), 'lock'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, '');
  const e = errorLine(r.stderr);
  assert.equal(e.code, 'UPSTREAM_INVALID', e.message);
  assert.match(e.message, /junk-1\.0-py3-none-any\.whl: not a valid wheel/);
});
