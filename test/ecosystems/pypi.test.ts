import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { digestOf } from '../../src/core/digest.js';
import { Store } from '../../src/core/store.js';
import { parseCoreMetadata } from '../../src/ecosystems/pypi/core-metadata.js';
import { parseDistFilename } from '../../src/ecosystems/pypi/filename.js';
import { normalizeName } from '../../src/ecosystems/pypi/names.js';
import { HTML_LEGACY, JSON_V1, HTML_V1, negotiate, renderProject } from '../../src/ecosystems/pypi/simple.js';
import { readWheelMetadata } from '../../src/ecosystems/pypi/wheel-metadata.js';
import { buildServer } from '../../src/server/app.js';
import { createToken } from '../../src/services/tokens.js';
import { tempDir } from '../helpers/tmp.js';
import { makeWheel } from '../helpers/wheels.js';

test('names, filenames and core metadata', () => {
  assert.equal(normalizeName('Friendly-Bard'), 'friendly-bard');
  assert.equal(normalizeName('FRIENDLY_._BARD'), 'friendly-bard');
  assert.deepEqual(parseDistFilename('Airlock_Demo-2.0-py3-none-any.whl'), { name: 'airlock-demo', version: '2.0', kind: 'wheel' });
  assert.deepEqual(parseDistFilename('torch-2.4.0-1-cp311-cp311-manylinux_2_28_aarch64.whl'), {
    name: 'torch',
    version: '2.4.0',
    kind: 'wheel',
  });
  assert.deepEqual(parseDistFilename('my_pkg-1.0.tar.gz'), { name: 'my-pkg', version: '1.0', kind: 'sdist' });
  assert.equal(parseDistFilename('x-1.0-py3-none.whl'), undefined);
  assert.equal(parseDistFilename('../x-1.0.tar.gz'), undefined);
  assert.equal(parseDistFilename('x.exe'), undefined);
  assert.deepEqual(
    parseCoreMetadata('Metadata-Version: 2.1\nName: Foo\nVersion: 1.0\nRequires-Python: >=3.8\nSummary: a\n  continued\n\nName: body'),
    {
      name: 'Foo',
      version: '1.0',
      requiresPython: '>=3.8',
    },
  );
  assert.equal(parseCoreMetadata('Name: Foo\n'), undefined);
  assert.equal(parseCoreMetadata('garbage'), undefined);
});

test('PEP 691 content negotiation as pip and uv send it', () => {
  assert.equal(negotiate('application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01'), JSON_V1);
  assert.equal(negotiate('application/vnd.pypi.simple.v1+html;q=0.2, application/vnd.pypi.simple.v1+json;q=0.1'), HTML_V1);
  assert.equal(negotiate('text/html'), HTML_LEGACY);
  assert.equal(negotiate(undefined), HTML_LEGACY);
  assert.equal(negotiate('*/*'), HTML_LEGACY);
  assert.equal(negotiate('application/vnd.pypi.simple.latest+json'), JSON_V1);
  assert.equal(negotiate('application/json'), undefined);
  assert.equal(negotiate('application/vnd.pypi.simple.v1+json;q=0'), undefined);
});

test('HTML escapes attributes and carries both PEP 714 names; JSON only core-metadata', () => {
  const f = {
    filename: 'a-1.0.tar.gz',
    url: '../../files/a/a-1.0.tar.gz',
    sha256: 'ab'.repeat(32),
    size: 10,
    requiresPython: '>=3.8,<4',
    yanked: 'bad "build"',
    coreMetadataSha256: 'cd'.repeat(32),
  };
  const html = renderProject('a', ['1.0'], [f], HTML_LEGACY);
  assert.match(html, /data-requires-python="&gt;=3\.8,&lt;4"/);
  assert.match(html, /data-yanked="bad &quot;build&quot;"/);
  assert.match(html, new RegExp(`data-core-metadata="sha256=${'cd'.repeat(32)}" data-dist-info-metadata="sha256=${'cd'.repeat(32)}"`));
  assert.match(html, /<meta name="pypi:repository-version" content="1\.1">/);
  const json = JSON.parse(renderProject('a', ['1.0'], [{ ...f, yanked: false }], JSON_V1)) as Record<string, unknown>;
  assert.deepEqual(json.meta, { 'api-version': '1.1' });
  assert.deepEqual(json.versions, ['1.0']);
  const file = (json.files as Record<string, unknown>[])[0]!;
  assert.deepEqual(file['core-metadata'], { sha256: 'cd'.repeat(32) });
  assert.equal('dist-info-metadata' in file, false);
  assert.equal(file.yanked, false);
  assert.equal(file.size, 10);
});

test('METADATA is read from a real wheel by ranges; a broken zip is refused', async (t) => {
  const dir = await tempDir(t);
  const wheel = await readFile(makeWheel(dir, 'Foo-Bar', '1.2', '>=3.9', 'dep>=1'));
  const reads: [number, number][] = [];
  const meta = await readWheelMetadata(
    async (s, e) => {
      reads.push([s, e]);
      return wheel.subarray(s, e + 1);
    },
    wheel.length,
    'foo.whl',
  );
  assert.match(meta.toString(), /^Metadata-Version: 2\.1\nName: Foo-Bar\nVersion: 1\.2\nRequires-Python: >=3\.9\nRequires-Dist: dep>=1\n/);
  assert.ok(reads.length <= 4);
  const broken = wheel.subarray(0, wheel.length - 30);
  await assert.rejects(
    readWheelMetadata(async (s, e) => broken.subarray(s, e + 1), broken.length, 'foo.whl'),
    /foo\.whl: not a valid wheel/,
  );
});

function form(fields: Record<string, string>, file?: { name: string; data: Buffer }): { payload: Buffer; headers: Record<string, string> } {
  const b = '----airlocktest';
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields))
    parts.push(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  if (file) {
    parts.push(
      Buffer.from(
        `--${b}\r\nContent-Disposition: form-data; name="content"; filename="${file.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      file.data,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${b}--\r\n`));
  return { payload: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${b}` } };
}

async function server(t: TestContext) {
  const dir = await tempDir(t);
  const store = await Store.open(join(dir, 'home'));
  const app = await buildServer({ store, baseUrl: 'http://mirror', auth: 'none' });
  t.after(async () => {
    await app.close();
    await store.close();
  });
  const publisher = `Basic ${Buffer.from(`__token__:${await createToken(store, 'p', 'publisher')}`).toString('base64')}`;
  const reader = `Basic ${Buffer.from(`__token__:${await createToken(store, 'r', 'reader')}`).toString('base64')}`;
  return { dir, store, app, publisher, reader };
}

test('upload: publisher only, checked against the file, 409 on duplicates; index and .metadata follow', async (t) => {
  const { dir, store, app, publisher, reader } = await server(t);
  const path = makeWheel(dir, 'Foo-Bar', '1.2', '>=3.9');
  const data = await readFile(path);
  const name = path.split('/').pop()!;
  const ok = { ':action': 'file_upload', name: 'Foo-Bar', version: '1.2', sha256_digest: digestOf(data).slice(7) };
  const up = (fields: Record<string, string>, auth?: string, file = { name, data }) => {
    const f = form(fields, file);
    return app.inject({
      method: 'POST',
      url: '/pypi/legacy/',
      payload: f.payload,
      headers: { ...f.headers, ...(auth ? { authorization: auth } : {}) },
    });
  };
  assert.equal((await up(ok)).statusCode, 401);
  assert.equal((await up(ok, reader)).statusCode, 403);
  const lying = await up({ ...ok, sha256_digest: 'ab'.repeat(32) }, publisher);
  assert.equal(lying.statusCode, 400);
  assert.match(lying.body, /does not match the uploaded bytes/);
  assert.equal((await up({ ...ok, name: 'other' }, publisher)).statusCode, 400);
  const renamed = await up(ok, publisher, { name: 'foo_bar-1.3-py3-none-any.whl', data });
  assert.equal(renamed.statusCode, 400);
  assert.match(renamed.body, /METADATA says Foo-Bar 1\.2/);
  assert.deepEqual(await store.meta.listArtifacts(), [], 'refused uploads leave no artifact');

  assert.equal((await up(ok, publisher)).statusCode, 200);
  const dup = await up(ok, publisher);
  assert.equal(dup.statusCode, 409);
  assert.match(dup.body, /File already exists/);

  const page = await app.inject({ url: '/pypi/simple/foo-bar/', headers: { accept: JSON_V1 } });
  assert.equal(page.headers['content-type'], JSON_V1);
  assert.equal(page.headers.vary, 'Accept');
  const file = (page.json() as { files: { url: string; 'core-metadata': { sha256: string }; 'requires-python': string }[] }).files[0]!;
  assert.equal(file['requires-python'], '>=3.9');
  const fileUrl = new URL(file.url, 'http://mirror/pypi/simple/foo-bar/').pathname;
  const got = await app.inject({ url: fileUrl });
  assert.deepEqual(got.rawPayload, data);
  assert.equal(got.headers['cache-control'], 'public, max-age=31536000, immutable');
  const meta = await app.inject({ url: `${fileUrl}.metadata` });
  assert.equal(digestOf(meta.rawPayload).slice(7), file['core-metadata'].sha256);

  const etag = page.headers.etag as string;
  assert.equal((await app.inject({ url: '/pypi/simple/foo-bar/', headers: { accept: JSON_V1, 'if-none-match': etag } })).statusCode, 304);
  // A new file must show at once, though pages are cached between changes.
  const next = makeWheel(dir, 'Foo-Bar', '1.3');
  const nextData = await readFile(next);
  const second = await up({ ...ok, version: '1.3', sha256_digest: digestOf(nextData).slice(7) }, publisher, {
    name: next.split('/').pop()!,
    data: nextData,
  });
  assert.equal(second.statusCode, 200, second.body);
  const updated = await app.inject({ url: '/pypi/simple/foo-bar/', headers: { accept: JSON_V1, 'if-none-match': etag } });
  assert.equal(updated.statusCode, 200);
  assert.deepEqual((updated.json() as { versions: string[] }).versions.sort(), ['1.2', '1.3']);

  assert.equal((await app.inject({ url: '/pypi/simple/foo-bar/', headers: { accept: 'application/json' } })).statusCode, 406);
  const redirect = await app.inject({ url: '/pypi/simple/Foo_Bar/' });
  assert.equal(redirect.statusCode, 301);
  assert.equal(redirect.headers.location, '/pypi/simple/foo-bar/');
  assert.equal((await app.inject({ url: '/pypi/simple/nothing/' })).statusCode, 404);
  assert.equal((await app.inject({ url: `/pypi/files/other/${name}` })).statusCode, 404);
});

test('client-config pip, uv and twine print their own configuration', async () => {
  const { pypiClientConfig } = await import('../../src/ecosystems/pypi/client-config.js');
  const pip = pypiClientConfig('http://mirror:8080/', 'pip');
  assert.match(pip, /^index-url = http:\/\/mirror:8080\/pypi\/simple\/$/m);
  assert.match(pip, /^trusted-host = mirror$/m);
  assert.match(pip, /^export PIP_INDEX_URL=http:\/\/mirror:8080\/pypi\/simple\/$/m);
  const uv = pypiClientConfig('http://mirror:8080', 'uv');
  assert.match(uv, /^url = "http:\/\/mirror:8080\/pypi\/simple\/"$/m);
  assert.match(uv, /^export UV_DEFAULT_INDEX=http:\/\/mirror:8080\/pypi\/simple\/$/m);
  assert.doesNotMatch(uv, /pip\.conf/);
  assert.match(pypiClientConfig('https://m', 'twine'), /twine upload --repository-url https:\/\/m\/pypi\/legacy\//);
});
