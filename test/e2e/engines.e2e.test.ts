import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { airlock, inNamespace, run, serveOffline } from '../helpers/cli.js';
import { startContainerd, startDocker } from '../helpers/engines.js';
import { buildImage } from '../helpers/oci.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * An airlock in a namespace with no network, holding one two-platform image under a Docker
 * Hub name and under another host's, pushed there by skopeo with a publisher token.
 */
async function airlockWithImages(t: TestContext, dir: string) {
  const home = join(dir, 'home');
  const image = await buildImage(join(dir, 'layout'), '1.0', ['linux/amd64', 'linux/arm64']);
  const publisher = (await airlock(['--home', home, 'token', 'create', '--name', 'ci', '--role', 'publisher'])).stdout.trim();
  const reader = (await airlock(['--home', home, 'token', 'create', '--name', 'dev', '--role', 'reader'])).stdout.trim();
  const server = await serveOffline(t, ['--home', home, 'serve', '--listen', '127.0.0.1:8080']);
  for (const name of ['docker.io/library/app:1.0', 'ghcr.io/team/tool:2']) {
    const r = await inNamespace(server, 'skopeo', [
      'copy',
      '--all',
      '--dest-tls-verify=false',
      '--dest-creds',
      `ci:${publisher}`,
      `oci:${image.layout}:1.0`,
      `docker://127.0.0.1:8080/${name}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
  }
  return { home, image, publisher, reader, server };
}

/**
 * The Docker engine itself against airlock, in the same namespace: Docker Hub names pulled
 * through the `registry-mirrors` entry `client-config docker` prints, another host's image
 * under its host name, `docker login` + `docker push` with a publisher token (Docker's own
 * upload flow), and `docker load` of an `image save` archive.
 */
test('docker: pulls through the mirror client-config prints, logs in and pushes, loads an image save archive', async (t) => {
  const dir = await tempDir(t);
  const { home, image, publisher, reader, server } = await airlockWithImages(t, dir);
  const config = await airlock(['client-config', 'docker', '--url', 'http://127.0.0.1:8080']);
  assert.equal(config.code, 0, config.stderr);
  const docker = await startDocker(t, server, config.stdout.replace(/^#.*\n/gm, ''));
  const inspect = async (ref: string) => {
    const r = await docker(['image', 'inspect', '--format', '{{.Id}} {{.Architecture}} {{json .RepoDigests}}', ref]);
    assert.equal(r.code, 0, r.stderr);
    const [id, arch, digests] = r.stdout.trim().split(' ') as [string, string, string];
    return { id, arch, digests: JSON.parse(digests) as string[] };
  };

  // Anonymous pulls: Docker asks /v2/token for a token and pulls with it (a Basic challenge
  // would make it refuse to pull without credentials). Its namespace has no other way out.
  for (const platform of ['linux/arm64', 'linux/amd64']) {
    const pulled = await docker(['pull', '--platform', platform, 'app:1.0']);
    assert.equal(pulled.code, 0, `${platform}: ${pulled.stderr}`);
    assert.match(pulled.stdout, new RegExp(`Digest: ${image.indexDigest}`), 'the index digest the upstream had');
    const seen = await inspect('app:1.0');
    assert.deepEqual([seen.id, seen.arch], [image.platforms[platform]!.config, platform.split('/')[1]], `${platform}: the right config`);
  }
  const other = await docker(['pull', '127.0.0.1:8080/ghcr.io/team/tool:2']);
  assert.equal(other.code, 0, other.stderr);
  assert.deepEqual((await inspect('127.0.0.1:8080/ghcr.io/team/tool:2')).digests, [
    `127.0.0.1:8080/ghcr.io/team/tool@${image.indexDigest}`,
  ]);

  // docker push: refused without login and with a reader's token; with a publisher's, Docker's
  // uploads land and the image comes back as pushed.
  const rootfs = join(dir, 'rootfs');
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await writeFile(join(rootfs, 'etc', 'built'), `built by the docker test ${Date.now()}\n`);
  const tarball = join(dir, 'rootfs.tar');
  assert.equal((await run('tar', ['-C', rootfs, '-cf', tarball, '.'])).code, 0);
  const built = '127.0.0.1:8080/team/built:1';
  const imported = await docker(['import', tarball, built]);
  assert.equal(imported.code, 0, imported.stderr);
  const builtId = (await inspect(built)).id;
  const anonymous = await docker(['push', built]);
  assert.notEqual(anonymous.code, 0, 'an anonymous push is refused');
  assert.match(anonymous.stderr, /unauthorized/);
  const wrong = await docker(['login', '-u', 'ci', '--password-stdin', '127.0.0.1:8080'], { input: 'airlock_not-a-token' });
  assert.notEqual(wrong.code, 0, 'a wrong token does not log in');
  const asReader = await docker(['login', '-u', 'dev', '--password-stdin', '127.0.0.1:8080'], { input: reader });
  assert.equal(asReader.code, 0, asReader.stderr);
  const denied = await docker(['push', built]);
  assert.notEqual(denied.code, 0, 'a reader cannot push');
  const login = await docker(['login', '-u', 'ci', '--password-stdin', '127.0.0.1:8080'], { input: publisher });
  assert.equal(login.code, 0, login.stderr);
  const pushed = await docker(['push', built]);
  assert.equal(pushed.code, 0, pushed.stderr);
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
  assert.ok(digest, pushed.stdout);
  const served = await inNamespace(server, 'sh', [
    '-c',
    `curl -sf -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' http://127.0.0.1:8080/v2/team/built/manifests/1 | sha256sum`,
  ]);
  assert.equal(`sha256:${served.stdout.split(' ')[0]}`, digest, 'the manifest Docker pushed is served byte for byte');
  assert.equal((await docker(['rmi', built])).code, 0);
  const back = await docker(['pull', built]);
  assert.equal(back.code, 0, back.stderr);
  assert.equal((await inspect(built)).id, builtId, 'the pushed image comes back');
  const log = JSON.parse((await airlock(['--home', home, '--json', 'audit', 'log'])).stdout) as {
    actor: string;
    action: string;
    subject: string;
  }[];
  assert.ok(
    log.some((e) => e.actor === 'token:ci' && e.action === 'oci.push' && e.subject === `team/built:1@${digest}`),
    'the push is audited',
  );

  // docker load of what `image save` writes from the store, offline.
  const saved = join(dir, 'app-amd64.tar');
  const save = await airlock(['--home', home, 'image', 'save', 'docker.io/library/app:1.0', '-o', saved, '--platform', 'linux/amd64'], {
    offline: true,
  });
  assert.equal(save.code, 0, save.stderr);
  assert.equal((await docker(['rmi', 'app:1.0'])).code, 0);
  const loaded = await docker(['load', '-i', saved]);
  assert.equal(loaded.code, 0, loaded.stderr);
  assert.match(loaded.stdout, /Loaded image: app:1\.0/);
  const seen = await inspect('app:1.0');
  assert.deepEqual([seen.id, seen.arch], [image.platforms['linux/amd64']!.config, 'amd64']);
});

/**
 * containerd through the hosts.toml `client-config containerd` prints: it asks the mirror
 * with `?ns=<registry>`, which is how airlock tells Docker Hub's `team/tool` from ghcr.io's.
 */
test('containerd: ctr pulls each platform through hosts.toml mirrors, for Docker Hub and for another registry', async (t) => {
  const dir = await tempDir(t);
  const { image, server } = await airlockWithImages(t, dir);
  const config = await airlock(['client-config', 'containerd', '--url', 'http://127.0.0.1:8080']);
  assert.equal(config.code, 0, config.stderr);
  const hosts = join(dir, 'certs.d');
  for (const [registry, upstream] of [
    ['docker.io', 'https://registry-1.docker.io'],
    ['ghcr.io', 'https://ghcr.io'],
    ['quay.io', 'https://quay.io'],
  ] as const) {
    await mkdir(join(hosts, registry), { recursive: true });
    await writeFile(join(hosts, registry, 'hosts.toml'), config.stdout.replace('https://registry-1.docker.io', upstream));
  }
  const ctr = await startContainerd(t, server);
  for (const [ref, platform] of [
    ['docker.io/library/app:1.0', 'linux/arm64'],
    ['ghcr.io/team/tool:2', 'linux/amd64'],
  ] as const) {
    const pulled = await ctr(['images', 'pull', '--hosts-dir', hosts, '--platform', platform, '--snapshotter', 'native', ref]);
    assert.equal(pulled.code, 0, `${ref}: ${pulled.stderr}`);
    const listed = await ctr(['images', 'ls']);
    assert.match(
      listed.stdout,
      new RegExp(`${ref.replace(/\./g, '\\.')}\\s+\\S+\\s+${image.indexDigest}`),
      `${ref}: the index digest the upstream had`,
    );
    const config = await ctr(['content', 'get', image.platforms[platform]!.config]);
    assert.equal(config.code, 0, `${ref}: the ${platform} config was fetched`);
    assert.equal((JSON.parse(config.stdout) as { architecture: string }).architecture, platform.split('/')[1]);
  }
  const other = await ctr(['images', 'pull', '--hosts-dir', hosts, '--snapshotter', 'native', 'quay.io/team/tool:2']);
  assert.notEqual(other.code, 0);
  assert.match(
    other.stderr,
    /response was http\.StatusNotFound" host="127\.0\.0\.1:8080"/,
    "the mirror has no quay.io/team/tool: ghcr.io's is not handed out for it",
  );
});
