import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { HttpClient } from '../../src/core/http.js';
import { redactUrl } from '../../src/core/redact.js';
import { parseManifest } from '../../src/manifest/manifest.js';
import { manifestSections } from '../../src/services/lock.js';
import { airlock } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { startUpstream } from '../helpers/upstream.js';

const parse = (text: string) => parseManifest(text, 'airlock.yaml', manifestSections());
const SECRET = 's3cr3t-Value-42';

function refused(text: string, where: RegExp, source: RegExp): void {
  assert.throws(
    () => parse(text),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'CONFIG_INVALID', e.message);
      assert.match(e.message, where);
      assert.match(e.message, source, 'says where the credentials come from instead');
      assert.ok(!e.message.includes(SECRET), `the secret is not echoed: ${e.message}`);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    },
  );
}

/** Each manifest URL field, with the line the URL is on and where that ecosystem reads credentials. */
const FIELDS: { name: string; yaml: (url: string) => string; where: RegExp; source: RegExp }[] = [
  {
    name: 'files url',
    yaml: (u) => `name: x\nfiles:\n  - url: https://example.org/a\n  - url: ${u}\n`,
    where: /^airlock\.yaml:4: files\.1\.url: /,
    source: /files/,
  },
  {
    name: 'pypi index',
    yaml: (u) => `name: x\npypi:\n  requirements: [six]\n  index: ${u}\n`,
    where: /^airlock\.yaml:4: pypi\.index: /,
    source: /index/,
  },
  {
    name: 'npm registry',
    yaml: (u) => `name: x\nnpm:\n  packages: [six]\n  registry: ${u}\n`,
    where: /^airlock\.yaml:4: npm\.registry: /,
    source: /\.npmrc/,
  },
  {
    name: 'conda channelAlias',
    yaml: (u) => `name: x\nconda:\n  specs: [six]\n  channels: [conda-forge]\n  channelAlias: ${u}\n`,
    where: /^airlock\.yaml:5: conda\.channelAlias: /,
    source: /channel/,
  },
  {
    name: 'conda channels',
    yaml: (u) => `name: x\nconda:\n  specs: [six]\n  channels:\n    - conda-forge\n    - ${u}\n`,
    where: /^airlock\.yaml:6: conda\.channels\.1: /,
    source: /channel/,
  },
  {
    name: 'huggingface endpoint',
    yaml: (u) => `name: x\nhuggingface:\n  repos: [{ repo: a/b }]\n  endpoint: ${u}\n`,
    where: /^airlock\.yaml:4: huggingface\.endpoint: /,
    source: /HF_TOKEN/,
  },
  {
    name: 'registries mirror',
    yaml: (u) => `name: x\nimages:\n  - ref: docker.io/library/alpine:3\nregistries:\n  docker.io:\n    mirror: ${u}\n`,
    where: /^airlock\.yaml:6: registries\.docker\.io\.mirror: /,
    source: /auth\.json|docker login/,
  },
];

test('a user:password@ in any manifest URL is CONFIG_INVALID at its line, naming where credentials come from, never quoting them', () => {
  for (const f of FIELDS) {
    for (const url of [
      `https://alice:${SECRET}@mirror.example/x/`,
      `https://${SECRET}@mirror.example/x/`,
      `http://alice:@mirror.example/x/`,
    ]) {
      refused(f.yaml(url), f.where, f.source);
      assert.throws(() => parse(f.yaml(url)), /must not carry credentials \(user:password@\)/, f.name);
    }
  }
});

test('credential-looking query parameters in any manifest URL are refused, whatever their case', () => {
  const names = [
    'token',
    'access_token',
    'key',
    'api_key',
    'apikey',
    'signature',
    'sig',
    'X-Amz-Signature',
    'X-Amz-Credential',
    'password',
    'secret',
    'TOKEN',
    'x-amz-signature',
  ];
  for (const f of FIELDS) {
    for (const name of names) {
      refused(f.yaml(`https://mirror.example/x/?a=1&${name}=${SECRET}`), f.where, f.source);
      assert.throws(
        () => parse(f.yaml(`https://mirror.example/x/?${name}=${SECRET}`)),
        new RegExp(`query parameter ${name} looks like a credential`),
        `${f.name} ${name}`,
      );
    }
  }
});

test('URLs without credentials, and query parameters that are not secret, still parse', () => {
  for (const f of FIELDS) parse(f.yaml('https://mirror.example/x/?version=2&keyring=no'));
});

test("conda: a /t/<token>/ channel URL (anaconda.org's token form) is refused too", () => {
  refused(
    `name: x\nconda:\n  specs: [six]\n  channels: [https://conda.example/t/${SECRET}/acme]\n`,
    /^airlock\.yaml:4: conda\.channels\.0: /,
    /channel/,
  );
});

test('files: secretQuery: true accepts a signed URL; user:password@ stays refused', () => {
  parse(`name: x\nfiles:\n  - url: https://bucket.example/a.bin?X-Amz-Credential=AK&X-Amz-Signature=${SECRET}\n    secretQuery: true\n`);
  refused(
    `name: x\nfiles:\n  - url: https://alice:${SECRET}@bucket.example/a.bin\n    secretQuery: true\n`,
    /^airlock\.yaml:3: files\.0\.url: /,
    /files/,
  );
});

test('redactUrl: user-info becomes ***@, secret query values ***, everything else as written', () => {
  assert.equal(
    redactUrl(`https://alice:${SECRET}@h.example:8443/p/a%20b?x=1&Token=${SECRET}&sig=${SECRET}#frag`),
    'https://***@h.example:8443/p/a%20b?x=1&Token=***&sig=***#frag',
  );
  assert.equal(redactUrl('https://h.example/a@b?q=a@b'), 'https://h.example/a@b?q=a@b');
  assert.equal(redactUrl(`not a url?api%5Fkey=${SECRET}`), 'not a url?api%5Fkey=***');
  assert.equal(redactUrl(`https://h/x?X-Amz-Signature=${SECRET}`, 'REDACTED'), 'https://h/x?X-Amz-Signature=REDACTED');
  assert.equal(redactUrl(`https://conda.example/t/${SECRET}/acme/linux-64/a.conda`), 'https://conda.example/t/***/acme/linux-64/a.conda');
});

test('http errors name the URL without its credentials: 500s until retries run out, 404, 403', async (t) => {
  const up = await startUpstream(t, { '/busy': { body: Buffer.alloc(0), status: 500 }, '/no': { body: Buffer.alloc(0), status: 403 } });
  const c = new HttpClient({ backoffMs: 1, retries: 1 });
  t.after(() => c.close());
  const base = up.url.replace('http://', `http://alice:${SECRET}@`);
  for (const path of ['/busy', '/missing', '/no']) {
    for (const call of [
      (u: string) => c.getText(u),
      (u: string) => c.remoteSize(u),
      (u: string) => c.download({ url: u, dest: join('/nonexistent-dir', 'x') }),
    ]) {
      await assert.rejects(call(`${base}${path}?token=${SECRET}&v=1`), (e: Error) => {
        assert.ok(!e.message.includes(SECRET), e.message);
        assert.match(e.message, /http:\/\/\*\*\*@127\.0\.0\.1:\d+\/\w+\?token=\*\*\*&v=1/);
        return true;
      });
    }
  }
});

test('a signed URL (secretQuery: true) is used to download, and nothing secret reaches airlock.lock, the bundle or the messages', async (t) => {
  const dir = await tempDir(t);
  const home = ['--home', join(dir, 'home')];
  const up = await startUpstream(t, { '/a.bin': { body: Buffer.from('payload\n') }, '/down.bin': { body: Buffer.alloc(0), status: 403 } });
  const signed = (p: string) => `${up.url}${p}?X-Amz-Credential=AKIA${SECRET}&X-Amz-Signature=${SECRET}&v=1`;
  await writeFile(join(dir, 'airlock.yaml'), `name: signed\nfiles:\n  - url: ${signed('/a.bin')}\n    secretQuery: true\n`);
  const ok = async (args: string[]) => {
    const r = await airlock([...home, ...args], { cwd: dir });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(!`${r.stdout}${r.stderr}`.includes(SECRET), `${args.join(' ')} prints no secret: ${r.stdout}${r.stderr}`);
    return r;
  };
  await ok(['lock']);
  assert.ok(
    up.requests.some((r) => r.method === 'GET' && r.path === '/a.bin'),
    'the signed URL was used',
  );
  const lock = await readFile(join(dir, 'airlock.lock'), 'utf8');
  assert.ok(!lock.includes(SECRET), lock);
  assert.match(lock, /X-Amz-Signature=REDACTED/);
  await ok(['fetch']);
  const made = await ok(['bundle', 'create', '-o', 'x.airlock']);
  const inspect = await ok(['bundle', 'inspect', made.stdout.trim().split('\n')[0]!]);
  assert.match(inspect.stdout, /a\.bin/);
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('.airlock'))) {
    assert.ok(!(await readFile(join(dir, f))).includes(SECRET), `${f} holds no secret`);
  }

  await writeFile(join(dir, 'airlock.yaml'), `name: signed\nfiles:\n  - url: ${signed('/down.bin')}\n    secretQuery: true\n`);
  const r = await airlock([...home, 'lock'], { cwd: dir });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /down\.bin/);
  assert.ok(!r.stderr.includes(SECRET), r.stderr);
});
