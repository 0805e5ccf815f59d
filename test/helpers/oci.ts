import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { type RunResult, run } from './cli.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Registry {
  /** `127.0.0.1:PORT` */
  host: string;
  process: ChildProcess;
}

/** Debian's docker-registry (distribution 2.8) on loopback, storing under `dir`. */
export async function startRegistry(t: TestContext, dir: string, opts: { htpasswd?: string } = {}): Promise<Registry> {
  const port = await freePort();
  const config = join(dir, 'registry.yml');
  await mkdir(join(dir, 'registry-data'), { recursive: true });
  await writeFile(
    config,
    [
      'version: 0.1',
      'log: { level: error }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'registry-data')} }, delete: { enabled: true } }`,
      `http: { addr: 127.0.0.1:${port} }`,
      ...(opts.htpasswd ? [`auth: { htpasswd: { realm: test, path: ${opts.htpasswd} } }`] : []),
      '',
    ].join('\n'),
  );
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  t.after(() => {
    child.kill('SIGTERM');
  });
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
    const r = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${port}/v2/`]);
    if (r.stdout === '200' || r.stdout === '401') return { host: `127.0.0.1:${port}`, process: child };
    await sleep(100);
  }
  throw new Error(`docker-registry did not come up: ${stderr}`);
}

async function tarOf(files: Record<string, Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of Object.entries(files)) pack.entry({ name, size: body.length, mtime: new Date(0), mode: 0o644 }, body);
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const c of pack) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

export interface BuiltImage {
  /** The OCI layout directory (`oci:DIR:TAG` for skopeo). */
  layout: string;
  indexDigest: string;
  /** Per platform (`linux/amd64`): manifest and config digests. */
  platforms: Record<string, { manifest: string; config: string }>;
}

/**
 * A multi-arch image in an OCI layout: per platform one layer with `/etc/platform` naming the
 * platform, plus one layer every platform shares (`padding` bytes of random data, to make
 * images as large as a benchmark wants), under an OCI index.
 */
export async function buildImage(dir: string, tag: string, platforms: string[], opts: { shared?: Buffer } = {}): Promise<BuiltImage> {
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (b: Buffer) => {
    const d = sha(b);
    await writeFile(join(blobs, d.slice(7)), b);
    return { digest: d, size: b.length };
  };
  const sharedTar = await tarOf({ 'usr/share/shared.bin': opts.shared ?? Buffer.from('shared by every platform\n') });
  const shared = gzipSync(sharedTar, { level: 1 });
  const sharedDesc = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...(await put(shared)) };
  const out: BuiltImage['platforms'] = {};
  const manifests = [];
  for (const p of platforms) {
    const [os, architecture, variant] = p.split('/') as [string, string, string | undefined];
    const layerTar = await tarOf({ 'etc/platform': Buffer.from(`${p}\n`) });
    const layer = gzipSync(layerTar);
    const layerDesc = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...(await put(layer)) };
    const config = Buffer.from(
      JSON.stringify({
        architecture,
        os,
        ...(variant ? { variant } : {}),
        config: { Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: [sha(sharedTar), sha(layerTar)] },
      }),
    );
    const configDesc = { mediaType: 'application/vnd.oci.image.config.v1+json', ...(await put(config)) };
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: configDesc,
        layers: [sharedDesc, layerDesc],
      }),
    );
    const m = await put(manifest);
    out[p] = { manifest: m.digest, config: configDesc.digest };
    manifests.push({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...m,
      platform: { os, architecture, ...(variant ? { variant } : {}) },
    });
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }));
  const idx = await put(index);
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { mediaType: 'application/vnd.oci.image.index.v1+json', ...idx, annotations: { 'org.opencontainers.image.ref.name': tag } },
      ],
    }),
  );
  return { layout: dir, indexDigest: idx.digest, platforms: out };
}

/** `skopeo copy --all` of a built layout into a registry over plain HTTP. */
export async function pushImage(image: BuiltImage, tag: string, dest: string, creds?: string): Promise<void> {
  const r = await run('skopeo', [
    'copy',
    '--all',
    '--preserve-digests',
    '--dest-tls-verify=false',
    ...(creds ? ['--dest-creds', creds] : []),
    `oci:${image.layout}:${tag}`,
    `docker://${dest}`,
  ]);
  if (r.code !== 0) throw new Error(`skopeo copy to ${dest}: ${r.stderr}`);
}

/** Pushes bytes as a blob with the spec's monolithic POST + PUT. */
async function pushBlob(base: string, name: string, body: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha(body);
  const start = await fetch(`${base}/v2/${name}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`upload start: ${start.status}`);
  const location = new URL(start.headers.get('location')!, base);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: new Uint8Array(body), headers: { 'content-type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`upload: ${put.status} ${await put.text()}`);
  return { digest, size: body.length };
}

async function pushManifest(base: string, name: string, reference: string, body: Buffer, mediaType: string): Promise<void> {
  const r = await fetch(`${base}/v2/${name}/manifests/${reference}`, {
    method: 'PUT',
    body: new Uint8Array(body),
    headers: { 'content-type': mediaType },
  });
  if (r.status !== 201) throw new Error(`manifest ${reference}: ${r.status} ${await r.text()}`);
}

/**
 * Attaches a signature-like artifact to `subject` the way OCI 1.1 clients do against a
 * registry without the referrers API: the artifact manifest (with `subject`) by digest, and
 * an index of referrers under the tag `sha256-<hex>`.
 */
export async function attachReferrer(
  host: string,
  name: string,
  subject: { digest: string; size: number; mediaType: string },
  artifactType: string,
): Promise<string> {
  const base = `http://${host}`;
  const empty = await pushBlob(base, name, Buffer.from('{}'));
  const payload = await pushBlob(base, name, Buffer.from(`{"signed":"${subject.digest}"}`));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', ...empty },
      layers: [{ mediaType: 'application/vnd.dev.test.signature+json', ...payload }],
      subject,
    }),
  );
  const digest = sha(manifest);
  await pushManifest(base, name, digest, manifest, 'application/vnd.oci.image.manifest.v1+json');
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: manifest.length, artifactType }],
    }),
  );
  await pushManifest(base, name, `sha256-${subject.digest.slice(7)}`, index, 'application/vnd.oci.image.index.v1+json');
  return digest;
}

/** podman with its own storage (vfs: no kernel overlay needed) under `dir`, as root. */
export function podmanIn(dir: string, env: NodeJS.ProcessEnv = {}) {
  return (args: string[], through?: (cmd: string, args: string[]) => Promise<RunResult>) => {
    const full = [
      '--root',
      join(dir, 'root'),
      '--runroot',
      join(dir, 'run'),
      '--storage-driver',
      'vfs',
      '--cgroup-manager',
      'cgroupfs',
      '--events-backend',
      'none',
      ...args,
    ];
    return through
      ? through('env', [...Object.entries(env).map(([k, v]) => `${k}=${v}`), 'podman', ...full])
      : run('podman', full, { env });
  };
}
