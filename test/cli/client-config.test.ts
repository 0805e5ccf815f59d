import assert from 'node:assert/strict';
import { test } from 'node:test';
import { airlock } from '../helpers/cli.js';

const config = async (client: string, url: string): Promise<string> => {
  const r = await airlock(['client-config', client, '--url', url]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
};

test("client-config: a trailing slash or the ecosystem's own path in --url gives the same lines as the bare origin", async () => {
  for (const [client, path] of [
    ['npm', '/npm/'],
    ['pip', '/pypi/simple/'],
    ['hf', '/hf/'],
    ['conda', '/conda/conda-forge/'],
    ['docker', '/v2/'],
    ['curl', '/files/'],
  ] as const) {
    const bare = await config(client, 'http://mirror:8080');
    assert.doesNotMatch(bare, /[^:\n]\/\//, `${client}: no doubled slash`);
    assert.equal(await config(client, 'http://mirror:8080/'), bare, `${client}: trailing slash`);
    assert.equal(await config(client, `http://mirror:8080${path}`), bare, `${client}: --url ending in ${path}`);
  }
  const proxied = await config('npm', 'https://gw.lab/airlock/');
  assert.match(proxied, /^registry=https:\/\/gw\.lab\/airlock\/npm\/$/m, 'a path in front of airlock (a reverse proxy) is kept');
});

test('client-config: --url must be http(s); --json gives the lines as JSON', async () => {
  const bad = await airlock(['client-config', 'npm', '--url', 'ftp://mirror/']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'airlock: error: --url: "ftp://mirror/" is not an http:// or https:// URL\n');
  const json = await airlock(['--json', 'client-config', 'npm', '--url', 'http://mirror:8080/npm/']);
  assert.equal(json.code, 0, json.stderr);
  const out = JSON.parse(json.stdout) as { client: string; url: string; config: string };
  assert.equal(out.client, 'npm');
  assert.equal(out.url, 'http://mirror:8080');
  assert.match(out.config, /^registry=http:\/\/mirror:8080\/npm\/$/m);
});
