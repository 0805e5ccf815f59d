import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type { StoredArtifact } from '../../core/artifact.js';
import { readBlobBytes } from '../../core/blobstore.js';
import type { Digest } from '../../core/digest.js';
import { hexOf } from '../../core/digest.js';
import { AirlockError, isAirlockError } from '../../core/errors.js';
import { prepareOutput, removeOnInterrupt, tempPathFor, writeError } from '../../core/fsutil.js';
import type { Store } from '../../core/store.js';
import { createTarWriter } from '../../core/tar.js';
import { type Descriptor, type ParsedManifest, parseManifest } from './manifest.js';
import { OCI_INDEX } from './media-types.js';
import { type Platform, formatPlatform, parsePlatform, platformMatches } from './platform.js';
import { readOciMetadata } from './record.js';
import { DOCKER_HUB, type ImageReference, ImageReferenceError, parseReference, repositoryName } from './reference.js';

export type SaveFormat = 'docker-archive' | 'oci-archive';

export interface SaveOptions {
  out: string;
  format: SaveFormat;
  /** Which platform of a multi-platform image; default this machine's. */
  platform?: string;
}

/** This machine's platform in OCI words, the default a single-platform archive is cut for. */
export function hostPlatform(): string {
  const arch =
    { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' }[process.arch as string] ??
    process.arch;
  return `linux/${arch}`;
}

/** The stored image a reference names: by digest, or the newest import or push of a tag. */
async function findImage(store: Store, text: string): Promise<{ artifact: StoredArtifact; ref: ImageReference }> {
  let ref: ImageReference;
  try {
    ref = parseReference(text);
  } catch (e) {
    throw new AirlockError('USAGE', (e as ImageReferenceError).message);
  }
  // A name pushed without a registry (`team/app`) is stored as sent; docker would read it as docker.io/team/app.
  const raw = text.split('@')[0]!.replace(/:[^/:]+$/, '');
  const names = new Set([repositoryName(ref), raw]);
  const rows = (await store.meta.listArtifacts({ ecosystem: 'oci' })).filter((a) => names.has(a.name)).sort((a, b) => b.id - a.id);
  const hit = rows.find((a) => (ref.digest ? a.digest === ref.digest : (a.metadata as { tag?: string }).tag === ref.tag));
  if (!hit) throw new AirlockError('NOT_FOUND', `${text}: no such image in the store (see airlock list --ecosystem oci)`);
  return { artifact: hit, ref };
}

/** The single-platform manifest to save: the image itself, or the index entry for `platform`. */
async function pickManifest(
  store: Store,
  a: StoredArtifact,
  platform: Platform,
  label: string,
): Promise<{ desc: Descriptor; parsed: Extract<ParsedManifest, { kind: 'image' }> }> {
  const top = parseManifest(await readBlobBytes(store.blobs, a.digest), a.mediaType);
  if (top.kind === 'image') return { desc: { mediaType: top.mediaType, digest: a.digest, size: a.size }, parsed: top };
  const stored = new Set(readOciMetadata(a.metadata)?.manifests.map((m) => m.digest));
  const choices = top.manifests.filter(
    (d) => d.platform && stored.has(d.digest) && d.annotations?.['vnd.docker.reference.type'] === undefined,
  );
  const desc = choices.find((d) => platformMatches(d.platform!, platform));
  if (!desc) {
    throw new AirlockError(
      'NOT_FOUND',
      `${label}: no ${formatPlatform(platform)} image in the store (it has ${choices.map((d) => formatPlatform(d.platform!)).join(', ') || 'none'}); use --platform`,
    );
  }
  const child = parseManifest(await readBlobBytes(store.blobs, desc.digest), desc.mediaType);
  if (child.kind !== 'image') throw new AirlockError('BUNDLE_INVALID', `${label}: ${desc.digest} is not an image manifest`);
  return { desc, parsed: child };
}

/** `docker.io/library/nginx:1.27` as docker names it: `nginx:1.27`. */
function familiar(repo: string, tag: string): string {
  const short = repo.startsWith(`${DOCKER_HUB}/library/`)
    ? repo.slice(`${DOCKER_HUB}/library/`.length)
    : repo.startsWith(`${DOCKER_HUB}/`)
      ? repo.slice(DOCKER_HUB.length + 1)
      : repo;
  return `${short}:${tag}`;
}

/**
 * Writes one platform of a stored image as an archive `docker load`, `podman load` and
 * `apptainer build x.sif docker-archive://x.tar` read, offline. The layout is what docker 25+
 * saves: an OCI layout (`oci-layout`, `index.json`, `blobs/sha256/…`) and, for
 * docker-archive, `manifest.json` naming the same blobs.
 */
export async function saveImage(
  store: Store,
  text: string,
  opts: SaveOptions,
): Promise<{ digest: Digest; platform: string; file: string }> {
  await prepareOutput(opts.out);
  const { artifact, ref } = await findImage(store, text);
  const label = `oci:${text}`;
  const platform = parsePlatform(opts.platform ?? hostPlatform());
  const { desc, parsed } = await pickManifest(store, artifact, platform, label);
  const tag = ref.tag ?? (artifact.metadata as { tag?: string }).tag ?? 'latest';
  const blobs = [desc, parsed.config, ...parsed.layers];
  for (const b of blobs) {
    const have = await store.blobs.stat(b.digest);
    if (!have || have.size !== b.size)
      throw new AirlockError('NOT_FOUND', `${label}: blob ${b.digest} is missing from the store (run airlock verify)`);
  }
  const refName = `${artifact.name}:${tag}`;
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      {
        mediaType: desc.mediaType,
        digest: desc.digest,
        size: desc.size,
        annotations: { 'io.containerd.image.name': refName, 'org.opencontainers.image.ref.name': tag },
      },
    ],
  };
  const tmp = tempPathFor(opts.out);
  const unmark = removeOnInterrupt(tmp);
  try {
    const out = createWriteStream(tmp, { flags: 'wx', highWaterMark: 1 << 20 });
    const tar = createTarWriter(out);
    await tar.addBuffer('oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    await tar.addBuffer('index.json', Buffer.from(JSON.stringify(index)));
    if (opts.format === 'docker-archive') {
      const manifest = [
        {
          Config: `blobs/sha256/${hexOf(parsed.config.digest)}`,
          RepoTags: [familiar(artifact.name, tag)],
          Layers: parsed.layers.map((l) => `blobs/sha256/${hexOf(l.digest)}`),
        },
      ];
      await tar.addBuffer('manifest.json', Buffer.from(JSON.stringify(manifest)));
    }
    await tar.addDirectory('blobs/');
    await tar.addDirectory('blobs/sha256/');
    const seen = new Set<string>();
    for (const b of blobs) {
      if (seen.has(b.digest)) continue;
      seen.add(b.digest);
      await tar.addStream(`blobs/sha256/${hexOf(b.digest)}`, b.size, await store.blobs.open(b.digest));
    }
    await tar.finish();
    await finished(out);
    await rename(tmp, opts.out);
  } catch (e) {
    await rm(tmp, { force: true });
    throw isAirlockError(e) ? e : await writeError(opts.out, e);
  } finally {
    unmark();
  }
  return { digest: desc.digest, platform: formatPlatform(desc.platform ?? platform), file: opts.out };
}
