import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { airlock, inNamespace, run, serveOffline } from '../helpers/cli.js';
import { attachReferrer, buildImage, podmanIn, pushImage, startRegistry } from '../helpers/oci.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Images through the whole loop with real tools: skopeo pushes a three-platform image into
 * Debian's docker-registry; airlock locks it for two platforms, fetches, bundles; the closed
 * side (no network) imports and serves /v2/; skopeo inspects, lists tags and copies each
 * platform back with the digests the upstream had. skopeo also reads the bundle itself.
 */
test('oci: registry → lock for two platforms → bundle → offline import → skopeo pulls from airlock', async (t) => {
  const dir = await tempDir(t);
  const registry = await startRegistry(t, dir);
  const image = await buildImage(join(dir, 'layout'), '1.0', ['linux/amd64', 'linux/arm64', 'linux/s390x']);
  await pushImage(image, '1.0', `${registry.host}/test/app:1.0`);
  const indexSize = (await readFile(join(image.layout, 'blobs', 'sha256', image.indexDigest.slice(7)))).length;
  const signature = await attachReferrer(
    registry.host,
    'test/app',
    { digest: image.indexDigest, size: indexSize, mediaType: 'application/vnd.oci.image.index.v1+json' },
    'application/vnd.dev.test.signature',
  );

  await writeFile(
    join(dir, 'airlock.yaml'),
    ['name: images', 'target: { platforms: [linux/amd64, linux/arm64] }', 'images:', `  - ref: ${registry.host}/test/app:1.0`, ''].join(
      '\n',
    ),
  );
  const low = join(dir, 'low');
  const high = join(dir, 'high');
  for (const args of [['lock'], ['fetch'], ['bundle', 'create', '-o', 'img.airlock']]) {
    const r = await airlock(['--home', low, ...args], { cwd: dir });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  const lock = JSON.parse(await readFile(join(dir, 'airlock.lock'), 'utf8')) as {
    artifacts: { key: string; digest: string; blobs: { digest: string }[] }[];
  };
  assert.equal(lock.artifacts.length, 1);
  const [art] = lock.artifacts;
  assert.equal(art!.digest, image.indexDigest, 'the index is kept byte for byte: the digest stays valid');
  const pinned = new Set(art!.blobs.map((b) => b.digest));
  assert.ok(pinned.has(image.platforms['linux/arm64']!.manifest) && pinned.has(image.platforms['linux/amd64']!.config));
  assert.ok(!pinned.has(image.platforms['linux/s390x']!.manifest), 'a platform the target lacks stays behind');
  assert.ok(pinned.has(signature), 'the signature attached by the sha256-<hex> tag fallback travels with the image');

  // The bundle is an OCI layout skopeo reads directly.
  const fromBundle = await run('skopeo', ['inspect', '--raw', `oci-archive:${join(dir, 'img.airlock')}:${registry.host}/test/app:1.0`]);
  assert.equal(fromBundle.code, 0, fromBundle.stderr);
  assert.match(fromBundle.stdout, /"manifests"/);

  const imp = await airlock(['--home', high, 'import', join(dir, 'img.airlock')], { offline: true });
  assert.equal(imp.code, 0, imp.stderr);

  // Saved from the store, offline, for docker load / podman load: one platform per archive.
  const podman = podmanIn(join(dir, 'podman'));
  for (const [format, platform] of [
    ['docker-archive', 'linux/arm64'],
    ['oci-archive', 'linux/amd64'],
  ] as const) {
    const tarball = join(dir, `${format}.tar`);
    const saved = await airlock(
      ['--home', high, 'image', 'save', `${registry.host}/test/app:1.0`, '-o', tarball, '--format', format, '--platform', platform],
      { offline: true },
    );
    assert.equal(saved.code, 0, saved.stderr);
    const seen = await run('skopeo', ['inspect', `${format}:${tarball}`]);
    assert.equal(seen.code, 0, seen.stderr);
    assert.equal((JSON.parse(seen.stdout) as { Architecture: string }).Architecture, platform.split('/')[1]);
    const loaded = await podman(['load', '-i', tarball]);
    assert.equal(loaded.code, 0, loaded.stderr);
  }
  const images = await podman(['images', '--format', '{{.Repository}}:{{.Tag}} {{.Digest}}']);
  assert.match(images.stdout, new RegExp(`${registry.host.replace(/\./g, '\\.')}/test/app:1\\.0`));
  const noPlatform = await airlock(
    ['--home', high, 'image', 'save', `${registry.host}/test/app:1.0`, '-o', join(dir, 'x.tar'), '--platform', 'linux/s390x'],
    { offline: true },
  );
  assert.equal(noPlatform.code, 1);
  assert.match(noPlatform.stderr, /no linux\/s390x image in the store \(it has linux\/amd64, linux\/arm64\)/);
  const server = await serveOffline(t, ['--home', high, 'serve', '--listen', '127.0.0.1:8080']);
  const served = `127.0.0.1:8080/${registry.host.replace(':', '-')}/test/app`;
  const skopeo = (...args: string[]) => inNamespace(server, 'skopeo', [...args]);

  const raw = await skopeo('inspect', '--tls-verify=false', '--raw', `docker://${served}:1.0`);
  assert.equal(raw.code, 0, raw.stderr);
  const sha = (await run('sh', ['-c', `printf '%s' '${raw.stdout.replace(/'/g, "'\\''")}' | sha256sum`])).stdout.split(' ')[0];
  assert.equal(`sha256:${sha}`, image.indexDigest, 'the index served is the bytes the upstream had');
  const tags = await skopeo('list-tags', '--tls-verify=false', `docker://${served}`);
  assert.equal(tags.code, 0, tags.stderr);
  assert.deepEqual((JSON.parse(tags.stdout) as { Tags: string[] }).Tags, ['1.0']);

  for (const platform of ['linux/amd64', 'linux/arm64']) {
    const arch = platform.split('/')[1]!;
    const info = await skopeo('inspect', '--tls-verify=false', '--override-arch', arch, `docker://${served}:1.0`);
    assert.equal(info.code, 0, info.stderr);
    assert.equal((JSON.parse(info.stdout) as { Architecture: string }).Architecture, arch, `${platform}: the right config`);
    const out = join(dir, `pulled-${arch}`);
    const copy = await skopeo('copy', '--src-tls-verify=false', '--override-arch', arch, `docker://${served}:1.0`, `oci:${out}:x`);
    assert.equal(copy.code, 0, copy.stderr);
    const idx = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    assert.equal(idx.manifests[0]!.digest, image.platforms[platform]!.manifest);
  }
  const missing = await skopeo('inspect', '--tls-verify=false', '--override-arch', 's390x', `docker://${served}:1.0`);
  assert.notEqual(missing.code, 0, 'a platform left behind is not served');

  const curl = (path: string) => inNamespace(server, 'curl', ['-s', '-w', '\n%{http_code}', `http://127.0.0.1:8080${path}`]);
  const repoPath = served.slice('127.0.0.1:8080/'.length);
  for (const filter of ['', '?artifactType=application/vnd.dev.test.signature']) {
    const refs = await curl(`/v2/${repoPath}/referrers/${image.indexDigest}${filter}`);
    const [body, status] = refs.stdout.split('\n');
    assert.equal(status, '200');
    const listedRefs = JSON.parse(body!) as { manifests: { digest: string; artifactType: string }[] };
    assert.deepEqual(
      listedRefs.manifests.map((m) => [m.digest, m.artifactType]),
      [[signature, 'application/vnd.dev.test.signature']],
    );
  }
  const none = await curl(`/v2/${repoPath}/referrers/${image.indexDigest}?artifactType=application/x-other`);
  assert.match(none.stdout, /"manifests":\[\]\}\n200$/, 'the referrers API answers 200 with an empty index');
  const unknown = await curl('/v2/nope/app/manifests/1.0');
  assert.match(unknown.stdout, /"code":"NAME_UNKNOWN"[\s\S]*\n404$/);
  const noTag = await curl(`/v2/${served.slice('127.0.0.1:8080/'.length)}/manifests/2.0`);
  assert.match(noTag.stdout, /"code":"MANIFEST_UNKNOWN"[\s\S]*\n404$/);
  const tricks = await curl('/v2/a/%2e%2e/b/manifests/1.0');
  assert.match(tricks.stdout, /"code":"NAME_INVALID"[\s\S]*\n400$/);
  const push = await inNamespace(server, 'curl', ['-s', '-w', '\n%{http_code}', '-X', 'POST', `http://127.0.0.1:8080/v2/x/blobs/uploads/`]);
  assert.match(push.stdout, /\n401$/, 'writes need a publisher token');
});

test('oci: a registry that serves other bytes than the digest is refused at fetch, naming the blob', async (t) => {
  const dir = await tempDir(t);
  const registry = await startRegistry(t, dir);
  const image = await buildImage(join(dir, 'layout'), '1.0', ['linux/amd64']);
  await pushImage(image, '1.0', `${registry.host}/test/bad:1.0`);
  await writeFile(
    join(dir, 'airlock.yaml'),
    ['name: bad', 'target: { platforms: [linux/amd64] }', 'images:', `  - ref: ${registry.host}/test/bad:1.0`, ''].join('\n'),
  );
  const home = join(dir, 'home');
  assert.equal((await airlock(['--home', home, 'lock'], { cwd: dir })).code, 0);
  const config = image.platforms['linux/amd64']!.config.slice(7);
  const data = join(dir, 'registry-data', 'docker', 'registry', 'v2', 'blobs', 'sha256', config.slice(0, 2), config, 'data');
  await writeFile(data, Buffer.concat([await readFile(data), Buffer.from(' ')]));
  const r = await airlock(['--home', home, 'fetch'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(`oci:${registry.host.replace(/\./g, '\\.')}/test/bad:1\\.0@sha256:[0-9a-f]{64}: expected (sha256:${config}|\\d+ bytes)`),
  );
  const listed = await airlock(['--home', home, '--json', 'list', '--ecosystem', 'oci']);
  assert.deepEqual(JSON.parse(listed.stdout), [], 'nothing of the image is stored as an artifact');
});

test("oci: an upstream with Basic auth: refused without credentials, pulled with the user's auth file, which stays out of the lock", async (t) => {
  const dir = await tempDir(t);
  const htpasswd = join(dir, 'htpasswd');
  const made = await run('htpasswd', ['-Bbc', htpasswd, 'alice', 's3cret-pass']);
  assert.equal(made.code, 0, made.stderr);
  const registry = await startRegistry(t, dir, { htpasswd });
  const image = await buildImage(join(dir, 'layout'), '1.0', ['linux/amd64']);
  await pushImage(image, '1.0', `${registry.host}/private/app:1.0`, 'alice:s3cret-pass');
  await writeFile(
    join(dir, 'airlock.yaml'),
    ['name: private', 'target: { platforms: [linux/amd64] }', 'images:', `  - ref: ${registry.host}/private/app:1.0`, ''].join('\n'),
  );
  const home = join(dir, 'home');
  const env = { REGISTRY_AUTH_FILE: join(dir, 'auth.json'), XDG_RUNTIME_DIR: join(dir, 'run'), DOCKER_CONFIG: join(dir, 'docker') };
  const denied = await airlock(['--home', home, 'lock'], { cwd: dir, env });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /the registry wants credentials/);
  await writeFile(
    env.REGISTRY_AUTH_FILE,
    JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from('alice:s3cret-pass').toString('base64') } } }),
  );
  for (const args of [['lock'], ['fetch']]) {
    const r = await airlock(['--home', home, ...args], { cwd: dir, env });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stdout + r.stderr, /s3cret|YWxpY2/);
  }
  const lock = await readFile(join(dir, 'airlock.lock'), 'utf8');
  assert.doesNotMatch(lock, /s3cret|alice|YWxpY2/, 'credentials never enter the lock');
  const listed = JSON.parse((await airlock(['--home', home, '--json', 'list', '--ecosystem', 'oci'])).stdout) as { digest: string }[];
  assert.deepEqual(
    listed.map((a) => a.digest),
    [image.indexDigest],
  );
});

test('oci: push with skopeo (publisher token), chunked and monolithic uploads, mounts, referrers, deletes', async (t) => {
  const dir = await tempDir(t);
  const home = join(dir, 'home');
  const image = await buildImage(join(dir, 'layout'), '1.0', ['linux/amd64', 'linux/arm64']);
  const token = async (name: string, role: string) =>
    (await airlock(['--home', home, 'token', 'create', '--name', name, '--role', role])).stdout.trim();
  const publisher = await token('ci', 'publisher');
  const reader = await token('dev', 'reader');
  const server = await serveOffline(t, ['--home', home, 'serve', '--listen', '127.0.0.1:8080']);
  const skopeo = (...args: string[]) => inNamespace(server, 'skopeo', args);
  const sh = (cmd: string) => inNamespace(server, 'sh', ['-c', cmd]);
  const base = 'http://127.0.0.1:8080';
  const auth = `-u ci:${publisher}`;

  const denied = await skopeo(
    'copy',
    '--all',
    '--dest-tls-verify=false',
    '--dest-creds',
    `dev:${reader}`,
    `oci:${image.layout}:1.0`,
    'docker://127.0.0.1:8080/team/app:1.0',
  );
  assert.notEqual(denied.code, 0, 'a reader token cannot push');
  const pushed = await skopeo(
    'copy',
    '--all',
    '--dest-tls-verify=false',
    '--dest-creds',
    `ci:${publisher}`,
    `oci:${image.layout}:1.0`,
    'docker://127.0.0.1:8080/team/app:1.0',
  );
  assert.equal(pushed.code, 0, pushed.stderr);
  const raw = await sh(`curl -sf -H 'Accept: application/vnd.oci.image.index.v1+json' ${base}/v2/team/app/manifests/1.0 | sha256sum`);
  assert.equal(`sha256:${raw.stdout.split(' ')[0]}`, image.indexDigest, 'pushed bytes come back unchanged');
  const arm = join(dir, 'arm');
  const back = await skopeo(
    'copy',
    '--src-tls-verify=false',
    '--override-arch',
    'arm64',
    'docker://127.0.0.1:8080/team/app:1.0',
    `oci:${arm}:x`,
  );
  assert.equal(back.code, 0, back.stderr);
  assert.equal(
    (JSON.parse(await readFile(join(arm, 'index.json'), 'utf8')) as { manifests: { digest: string }[] }).manifests[0]!.digest,
    image.platforms['linux/arm64']!.manifest,
  );

  // podman pulls through the mirror entries client-config prints, for Docker Hub and for another host.
  for (const name of ['docker.io/library/app:1.0', 'ghcr.io/team/tool:2']) {
    const r = await skopeo(
      'copy',
      '--all',
      '--dest-tls-verify=false',
      '--dest-creds',
      `ci:${publisher}`,
      `oci:${image.layout}:1.0`,
      `docker://127.0.0.1:8080/${name}`,
    );
    assert.equal(r.code, 0, r.stderr);
  }
  const conf = join(dir, 'registries.conf');
  await writeFile(
    conf,
    `unqualified-search-registries = []\n${(await airlock(['client-config', 'podman', '--url', 'http://127.0.0.1:8080'])).stdout}`,
  );
  const podman = podmanIn(join(dir, 'podman'), { CONTAINERS_REGISTRIES_CONF: conf });
  for (const name of ['docker.io/library/app:1.0', 'ghcr.io/team/tool:2']) {
    const pulled = await podman(['pull', '--arch', 'arm64', name], (cmd, args) => inNamespace(server, cmd, args));
    assert.equal(pulled.code, 0, `${name}: ${pulled.stderr}`);
    const arch = await podman(['image', 'inspect', '--format', '{{.Architecture}}', name]);
    assert.equal(arch.stdout.trim(), 'arm64');
  }

  // containerd names the upstream host with ?ns=.
  const ns = (path: string) =>
    sh(`curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.index.v1+json' '${base}${path}'`);
  assert.equal((await ns('/v2/library/app/manifests/1.0?ns=docker.io')).stdout, '200');
  assert.equal((await ns('/v2/team/tool/manifests/2?ns=ghcr.io')).stdout, '200');
  assert.equal((await ns('/v2/team/tool/manifests/2?ns=quay.io')).stdout, '404');

  // The Bearer realm: Basic credentials in, the same token out as Bearer.
  const issued = await sh(`curl -sf -u ci:${publisher} '${base}/v2/token?service=airlock&scope=repository:team/app:push,pull'`);
  const bearer = (JSON.parse(issued.stdout) as { token: string }).token;
  const viaBearer = await sh(
    `curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer ${bearer}' ${base}/v2/team/app/blobs/uploads/`,
  );
  assert.equal(viaBearer.stdout, '202');
  assert.equal((await sh(`curl -s -o /dev/null -w '%{http_code}' -u ci:wrong ${base}/v2/token`)).stdout, '401');

  // Copying within the registry (skopeo offers cross-repository mounts for blobs it has seen there).
  const copied = await skopeo(
    'copy',
    '--all',
    '--src-tls-verify=false',
    '--dest-tls-verify=false',
    '--dest-creds',
    `ci:${publisher}`,
    'docker://127.0.0.1:8080/team/app:1.0',
    'docker://127.0.0.1:8080/other/app:2.0',
  );
  assert.equal(copied.code, 0, copied.stderr);
  const tags = await skopeo('list-tags', '--tls-verify=false', 'docker://127.0.0.1:8080/other/app');
  assert.equal(tags.code, 0, tags.stderr);
  assert.deepEqual((JSON.parse(tags.stdout) as { Tags: string[] }).Tags, ['2.0']);

  // A chunked upload: chunks must continue where the last one ended (416 otherwise).
  const started = await sh(`curl -s -o /dev/null -D - -X POST ${auth} ${base}/v2/team/raw/blobs/uploads/`);
  assert.match(started.stdout, /^HTTP\/1\.1 202/);
  const location = /location: (\S+)/i.exec(started.stdout)![1]!;
  const patch = (range: string, body: string) =>
    sh(
      `printf '%s' '${body}' | curl -s -o /dev/null -D - -X PATCH ${auth} -H 'Content-Type: application/octet-stream' -H 'Content-Range: ${range}' --data-binary @- ${base}${location}`,
    );
  assert.match((await patch('0-4', 'hello')).stdout, /^HTTP\/1\.1 202[\s\S]*range: 0-4/i);
  assert.match((await patch('9-11', 'xyz')).stdout, /^HTTP\/1\.1 416[\s\S]*range: 0-4/i);
  assert.match((await patch('5-10', ' world')).stdout, /^HTTP\/1\.1 202[\s\S]*range: 0-10/i);
  const helloDigest = `sha256:${(await run('sh', ['-c', "printf 'hello world' | sha256sum"])).stdout.split(' ')[0]}`;
  const wrong = await sh(`curl -s -w '\\n%{http_code}' -X PUT ${auth} '${base}${location}?digest=sha256:${'0'.repeat(64)}'`);
  assert.match(wrong.stdout, /"code":"DIGEST_INVALID"[\s\S]*\n400$/);
  const gone = await sh(`curl -s -o /dev/null -w '%{http_code}' -I ${base}/v2/team/raw/blobs/sha256:${'0'.repeat(64)}`);
  assert.equal(gone.stdout, '404', 'a blob with a wrong digest is not stored');

  const again = await sh(`curl -s -o /dev/null -D - -X POST ${auth} ${base}/v2/team/raw/blobs/uploads/`);
  const loc2 = /location: (\S+)/i.exec(again.stdout)![1]!;
  const streamed = await sh(
    `printf 'hello world' | curl -s -o /dev/null -w '%{http_code}' -X PATCH ${auth} -H 'Content-Type: application/octet-stream' --data-binary @- ${base}${loc2}`,
  );
  assert.equal(streamed.stdout, '202', 'a PATCH without Content-Range streams');
  const done = await sh(`curl -s -o /dev/null -D - -X PUT ${auth} '${base}${loc2}?digest=${helloDigest}'`);
  assert.match(done.stdout, new RegExp(`^HTTP/1\\.1 201[\\s\\S]*docker-content-digest: ${helloDigest}`, 'i'));
  assert.equal((await sh(`curl -sf ${base}/v2/team/raw/blobs/${helloDigest}`)).stdout, 'hello world');
  const mounted = await sh(
    `curl -s -o /dev/null -D - -X POST ${auth} '${base}/v2/elsewhere/raw/blobs/uploads/?mount=${helloDigest}&from=team/raw'`,
  );
  assert.match(mounted.stdout, new RegExp(`^HTTP/1\\.1 201[\\s\\S]*location: /v2/elsewhere/raw/blobs/${helloDigest}`, 'i'));

  // Monolithic POST, then manifests: one naming a missing blob is refused; one with a subject is a referrer.
  const empty = (
    await sh(
      `printf '{}' | curl -s -o /dev/null -w '%{http_code}' -X POST ${auth} -H 'Content-Type: application/octet-stream' --data-binary @- '${base}/v2/team/raw/blobs/uploads/?digest=sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'`,
    )
  ).stdout;
  assert.equal(empty, '201');
  const putManifest = (ref: string, body: object) =>
    sh(
      `printf '%s' '${JSON.stringify(body)}' | curl -s -D - -X PUT ${auth} -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @- ${base}/v2/team/app/manifests/${ref}`,
    );
  const emptyDesc = {
    mediaType: 'application/vnd.oci.empty.v1+json',
    digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
    size: 2,
  };
  const missing = await putManifest('bad', {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: emptyDesc,
    layers: [{ ...emptyDesc, digest: `sha256:${'1'.repeat(64)}` }],
  });
  assert.match(missing.stdout, /^HTTP\/1\.1 400[\s\S]*"code":"MANIFEST_BLOB_UNKNOWN"/);
  const indexSize = (await readFile(join(image.layout, 'blobs', 'sha256', image.indexDigest.slice(7)))).length;
  const sig = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.dev.test.sbom',
    config: emptyDesc,
    layers: [{ mediaType: 'text/plain', digest: helloDigest, size: 11 }],
    subject: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: image.indexDigest, size: indexSize },
  };
  const sigDigest = `sha256:${(await run('sh', ['-c', `printf '%s' '${JSON.stringify(sig)}' | sha256sum`])).stdout.split(' ')[0]}`;
  const withSubject = await putManifest(sigDigest, sig);
  assert.match(withSubject.stdout, new RegExp(`^HTTP/1\\.1 201[\\s\\S]*oci-subject: ${image.indexDigest}`, 'i'));
  const refs = JSON.parse((await sh(`curl -sf ${base}/v2/team/app/referrers/${image.indexDigest}`)).stdout) as {
    manifests: { digest: string }[];
  };
  assert.deepEqual(
    refs.manifests.map((m) => m.digest),
    [sigDigest],
  );

  // Deleting a tag keeps the manifest by digest; deleting the digest removes it.
  const del = (ref: string) => sh(`curl -s -o /dev/null -w '%{http_code}' -X DELETE ${auth} ${base}/v2/team/app/manifests/${ref}`);
  assert.equal((await del('1.0')).stdout, '202');
  assert.deepEqual(JSON.parse((await sh(`curl -sf ${base}/v2/team/app/tags/list`)).stdout), { name: 'team/app', tags: [] });
  assert.equal((await sh(`curl -s -o /dev/null -w '%{http_code}' ${base}/v2/team/app/manifests/${image.indexDigest}`)).stdout, '200');
  assert.equal((await del(image.indexDigest)).stdout, '202');
  assert.equal((await sh(`curl -s -o /dev/null -w '%{http_code}' ${base}/v2/team/app/manifests/${image.indexDigest}`)).stdout, '404');
  assert.equal((await del('1.0')).stdout, '404');

  const log = JSON.parse((await airlock(['--home', home, '--json', 'audit', 'log'])).stdout) as {
    actor: string;
    action: string;
    subject: string;
  }[];
  assert.ok(
    log.some((e) => e.actor === 'token:ci' && e.action === 'oci.push' && e.subject === `team/app:1.0@${image.indexDigest}`),
    'pushes are audited with the token that made them',
  );
  assert.ok(log.some((e) => e.actor === 'token:ci' && e.action === 'oci.delete' && e.subject === 'team/app:1.0'));
  assert.equal((await airlock(['--home', home, 'audit', 'verify'])).code, 0);
});
