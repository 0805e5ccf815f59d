import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { StoredArtifact } from '../../src/core/artifact.js';
import type { Digest } from '../../src/core/digest.js';
import { parseChallenge, tokenUrl } from '../../src/ecosystems/oci/challenge.js';
import { credentialFrom } from '../../src/ecosystems/oci/credentials.js';
import { parseManifest } from '../../src/ecosystems/oci/manifest.js';
import { parsePlatform, platformMatches } from '../../src/ecosystems/oci/platform.js';
import { formatReference, parseReference } from '../../src/ecosystems/oci/reference.js';
import { registryBase } from '../../src/ecosystems/oci/registry-client.js';
import { servedName } from '../../src/ecosystems/oci/view.js';
import { emptyServer } from '../helpers/server.js';

const D = `sha256:${'a'.repeat(64)}`;

test('image references normalise as docker does', () => {
  const cases: [string, string][] = [
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.27-alpine', 'docker.io/library/nginx:1.27-alpine'],
    ['library/nginx', 'docker.io/library/nginx:latest'],
    ['docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['index.docker.io/library/nginx:1', 'docker.io/library/nginx:1'],
    ['bitnami/redis:7', 'docker.io/bitnami/redis:7'],
    ['ghcr.io/org/model-server:v2', 'ghcr.io/org/model-server:v2'],
    [`ghcr.io/org/model-server@${D}`, `ghcr.io/org/model-server@${D}`],
    [`quay.io/a/b:1@${D}`, `quay.io/a/b:1@${D}`],
    ['localhost/img', 'localhost/img:latest'],
    ['127.0.0.1:5000/test/app:1.0', '127.0.0.1:5000/test/app:1.0'],
  ];
  for (const [input, want] of cases) assert.equal(formatReference(parseReference(input)), want, input);
  for (const bad of ['Nginx', 'nginx:', 'a//b', 'ghcr.io/../x', `x@sha256:${'g'.repeat(64)}`, 'x:-tag', '']) {
    assert.throws(() => parseReference(bad), /is not an image reference/, bad);
  }
});

test('registry endpoints: Docker Hub API host, loopback over HTTP, mirrors', () => {
  assert.equal(registryBase('docker.io'), 'https://registry-1.docker.io');
  assert.equal(registryBase('127.0.0.1:5000'), 'http://127.0.0.1:5000');
  assert.equal(registryBase('reg.example:5000', { insecure: true }), 'http://reg.example:5000');
  assert.equal(registryBase('docker.io', { mirror: 'https://mirror.example/' }), 'https://mirror.example');
  assert.equal(servedName('127.0.0.1:5000/test/app'), '127.0.0.1-5000/test/app');
  assert.equal(servedName('docker.io/library/nginx'), 'docker.io/library/nginx');
});

test('WWW-Authenticate challenges and the token URL', () => {
  const c = parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"');
  assert.deepEqual(c, {
    scheme: 'bearer',
    params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull' },
  });
  assert.equal(tokenUrl(c!, 'repository:x/y:pull'), 'https://auth.example/token?service=registry.example&scope=repository%3Ax%2Fy%3Apull');
  assert.deepEqual(parseChallenge('Basic realm="a \\"quoted\\" realm"'), { scheme: 'basic', params: { realm: 'a "quoted" realm' } });
  assert.equal(parseChallenge('Negotiate abc'), undefined);
});

test('credentials from container auth files', () => {
  const auth = Buffer.from('user:pa:ss').toString('base64');
  assert.deepEqual(credentialFrom({ auths: { 'ghcr.io': { auth } } }, 'ghcr.io'), { username: 'user', password: 'pa:ss' });
  assert.deepEqual(credentialFrom({ auths: { 'https://index.docker.io/v1/': { auth } } }, 'docker.io'), {
    username: 'user',
    password: 'pa:ss',
  });
  assert.equal(credentialFrom({ auths: { 'ghcr.io': { auth } } }, 'quay.io'), undefined);
});

test('platforms match with default variants', () => {
  assert.ok(platformMatches(parsePlatform('linux/arm64/v8'), parsePlatform('linux/arm64')));
  assert.ok(platformMatches(parsePlatform('linux/arm/v7'), parsePlatform('linux/arm')));
  assert.ok(!platformMatches(parsePlatform('linux/arm/v6'), parsePlatform('linux/arm')));
  assert.ok(!platformMatches(parsePlatform('linux/amd64'), parsePlatform('windows/amd64')));
});

test('manifests are parsed as untrusted documents', () => {
  const desc = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D, size: 2 };
  const m = parseManifest(
    Buffer.from(JSON.stringify({ schemaVersion: 2, config: desc, layers: [desc], subject: desc, artifactType: 'x/y' })),
    'application/vnd.oci.image.manifest.v1+json',
  );
  assert.equal(m.kind, 'image');
  assert.equal(m.subject?.digest, D);
  const idx = parseManifest(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
        manifests: [{ ...desc, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } }],
      }),
    ),
    undefined,
  );
  assert.equal(idx.kind, 'index');
  assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":1}'), undefined), /schemaVersion 2/);
  assert.throws(
    () => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, config: { ...desc, digest: 'md5:x' }, layers: [] })), undefined),
    /config has no sha256 digest/,
  );
  assert.throws(
    () => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, config: desc, layers: [{ ...desc, size: -1 }] })), undefined),
    /bad size/,
  );
});

test('client-config docker, podman and containerd', async () => {
  const { ociClientConfig } = await import('../../src/ecosystems/oci/client-config.js');
  const docker = ociClientConfig('http://mirror:8080', 'docker');
  assert.deepEqual(JSON.parse(docker.slice(docker.indexOf('{'))), {
    'registry-mirrors': ['http://mirror:8080'],
    'insecure-registries': ['mirror:8080'],
  });
  const podman = ociClientConfig('https://mirror.lab', 'podman');
  assert.match(podman, /prefix = "docker\.io"\nlocation = "docker\.io"\n\[\[registry\.mirror\]\]\nlocation = "mirror\.lab"\n/);
  assert.doesNotMatch(podman, /insecure/);
  assert.match(
    ociClientConfig('https://mirror.lab', 'containerd'),
    /\[host\."https:\/\/mirror\.lab"\]\n {2}capabilities = \["pull", "resolve"\]/,
  );
});

test('a tag set by a newer bundle is not rolled back by an older bundle of the same creator', async () => {
  const { RegistryView } = await import('../../src/ecosystems/oci/view.js');
  const image = (id: number, digest: string, bundleId: string | null): StoredArtifact => ({
    id,
    ecosystem: 'oci',
    key: `docker.io/library/app:1@${digest}`,
    name: 'docker.io/library/app',
    version: '1',
    digest: digest as `sha256:${string}`,
    size: 2,
    metadata: {
      refName: 'docker.io/library/app:1',
      tag: '1',
      platforms: [],
      manifests: [{ digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 2 }],
    } as Record<string, unknown>,
    blobs: [],
    bundleId,
    createdAt: '',
  });
  const [d1, d2, d3] = ['1', '2', '3'].map((c) => `sha256:${c.repeat(64)}`) as [Digest, Digest, Digest];
  const bundles = new Map([
    ['b2', { creator: 'ingest', sequence: 2 }],
    ['b1', { creator: 'ingest', sequence: 1 }],
    ['x9', { creator: 'other', sequence: 9 }],
  ]);
  // Sequence 2 first, then a replayed sequence 1: the tag stays where sequence 2 put it.
  const view = new RegistryView([image(1, d2, 'b2'), image(2, d1, 'b1')], bundles);
  assert.equal(view.find('library/app')!.tags.get('1')!.digest, d2);
  assert.ok(view.find('library/app')!.manifests.has(d1), 'the older manifest is still there by digest');
  // A push, or another creator's bundle, moves it as the newest action.
  assert.equal(new RegistryView([image(1, d2, 'b2'), image(2, d3, null)], bundles).find('library/app')!.tags.get('1')!.digest, d3);
  assert.equal(new RegistryView([image(1, d2, 'b2'), image(2, d3, 'x9')], bundles).find('library/app')!.tags.get('1')!.digest, d3);
});

test('starting an upload removes sessions abandoned for a day, and keeps live ones', async (t) => {
  const { createToken } = await import('../../src/services/tokens.js');
  const { store, server } = await emptyServer(t);
  const uploads = join(await store.blobs.tempDir(), 'oci-uploads');
  await mkdir(uploads, { recursive: true });
  const [old, live] = [randomUUID(), randomUUID()];
  await writeFile(join(uploads, old), 'half a layer');
  await writeFile(join(uploads, live), 'the other half');
  const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
  await utimes(join(uploads, old), twoDaysAgo, twoDaysAgo);
  const authorization = `Bearer ${await createToken(store, 'ci', 'publisher')}`;
  const status = async (id: string) =>
    (await server.inject({ url: `/v2/team/app/blobs/uploads/${id}`, headers: { authorization } })).statusCode;
  assert.equal(await status(old), 204, 'before the sweep, an old session still answers');
  const started = await server.inject({ method: 'POST', url: '/v2/team/app/blobs/uploads/', headers: { authorization } });
  assert.equal(started.statusCode, 202);
  assert.equal(await status(old), 404);
  assert.equal(await status(live), 204);
  assert.deepEqual((await readdir(uploads)).sort(), [live, started.headers['docker-upload-uuid']].sort());
});
