import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { airlock } from '../helpers/cli.js';
import { buildImage } from '../helpers/oci.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A registry that speaks the distribution token flow as Docker Hub and GHCR do: `/v2/` answers
 * 401 with a Bearer challenge, the realm hands out a token per scope (anonymously for the
 * public repository, only with Basic credentials for the private one), and every request
 * without the right token is 401.
 */
test('oci: Bearer token flow, anonymous and with credentials from the auth file', async (t) => {
  const dir = await tempDir(t);
  const image = await buildImage(join(dir, 'layout'), '1.0', ['linux/amd64']);
  const blobs = join(image.layout, 'blobs', 'sha256');
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push(`${req.method} ${url.pathname} ${req.headers.authorization ?? '-'}`);
    if (url.pathname === '/token') {
      const scope = url.searchParams.get('scope') ?? '';
      const basic = req.headers.authorization === `Basic ${Buffer.from('bob:hunter2').toString('base64')}`;
      if (scope.startsWith('repository:private/') && !basic) return res.writeHead(401).end();
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `tok-${scope}` }));
    }
    const m = /^\/v2\/(public|private)\/app\/(manifests|blobs)\/(.+)$/.exec(url.pathname);
    const challenge = `Bearer realm="http://${req.headers.host}/token",service="fake"`;
    if (!m) return res.writeHead(401, { 'www-authenticate': challenge }).end();
    if (req.headers.authorization !== `Bearer tok-repository:${m[1]}/app:pull`) {
      return res.writeHead(401, { 'www-authenticate': `${challenge},scope="repository:${m[1]}/app:pull"` }).end();
    }
    const digest = m[3] === '1.0' ? image.indexDigest : m[3]!;
    readFile(join(blobs, digest.replace('sha256:', ''))).then(
      (body) => {
        const type = m[2] === 'manifests' ? (JSON.parse(body.toString()) as { mediaType: string }).mediaType : 'application/octet-stream';
        res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'docker-content-digest': digest }).end(body);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  const env = { REGISTRY_AUTH_FILE: join(dir, 'auth.json'), XDG_RUNTIME_DIR: join(dir, 'run'), DOCKER_CONFIG: join(dir, 'docker') };

  for (const repo of ['public', 'private']) {
    const sub = join(dir, repo);
    await writeFile(
      join(dir, `${repo}.yaml`),
      `name: ${repo}\ntarget: { platforms: [linux/amd64] }\nimages:\n  - ref: ${host}/${repo}/app:1.0\n`,
    );
    const args = (cmd: string[]) => ['--home', sub, ...cmd];
    if (repo === 'private') {
      const denied = await airlock(args(['lock', '-f', `${repo}.yaml`, '-o', `${repo}.lock`]), { cwd: dir, env });
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /the token service refused repository:private\/app:pull anonymously/);
      await writeFile(
        env.REGISTRY_AUTH_FILE,
        JSON.stringify({ auths: { [host]: { auth: Buffer.from('bob:hunter2').toString('base64') } } }),
      );
    }
    for (const cmd of [
      ['lock', '-f', `${repo}.yaml`, '-o', `${repo}.lock`],
      ['fetch', '--lock', `${repo}.lock`],
    ]) {
      const r = await airlock(args(cmd), { cwd: dir, env });
      assert.equal(r.code, 0, `${repo} ${cmd[0]}: ${r.stderr}`);
    }
    const listed = JSON.parse((await airlock(['--home', sub, '--json', 'list', '--ecosystem', 'oci'])).stdout) as { digest: string }[];
    assert.deepEqual(
      listed.map((a) => a.digest),
      [image.indexDigest],
    );
  }
  assert.ok(
    seen.some((s) => s.startsWith('GET /token Basic')),
    'credentials went to the token service',
  );
  assert.ok(!seen.some((s) => s.startsWith('GET /v2/private') && s.includes('Basic')), 'never to the registry itself when it wants Bearer');
});
