import { Readable } from 'node:stream';
import type { Digest } from '../../core/digest.js';
import { hexOf } from '../../core/digest.js';
import { AirlockError } from '../../core/errors.js';
import type { LockedArtifact, LockedBlob } from '../../manifest/lockfile.js';
import type { ResolveContext } from '../ecosystem.js';
import { type Descriptor, ManifestError, type ParsedManifest, parseManifest } from './manifest.js';
import { type Platform, formatPlatform, parsePlatform, platformMatches } from './platform.js';
import { type OciImageMetadata, type StoredManifest, storedManifest } from './record.js';
import { type FetchedManifest, type RegistryClient, registryBase, registryClient } from './registry-client.js';
import { type ImageReference, formatReference, parseReference, repositoryName } from './reference.js';
import type { ImagesSection, RegistriesSection } from './schema.js';

/** Buildx puts provenance and SBOM manifests beside the platform ones, tied to them by these. */
const REFERENCE_TYPE = 'vnd.docker.reference.type';
const REFERENCE_DIGEST = 'vnd.docker.reference.digest';

/** Everything one image needs, gathered while walking its manifests. */
class ImageParts {
  readonly manifests: StoredManifest[] = [];
  readonly blobs = new Map<string, LockedBlob>();

  constructor(
    private readonly ctx: ResolveContext,
    private readonly client: RegistryClient,
    private readonly path: string,
    private readonly label: string,
  ) {}

  /** Manifests are small and come during lock, into the store, byte for byte. */
  async addManifest(m: FetchedManifest, parsed: ParsedManifest): Promise<void> {
    if (this.blobs.has(m.digest)) return;
    await this.ctx.store.blobs.put(Readable.from([m.bytes]), `${this.label} manifest ${m.digest}`, {
      digest: m.digest,
      size: m.bytes.length,
    });
    this.manifests.push(storedManifest(m.digest, m.bytes.length, parsed));
    this.blobs.set(m.digest, {
      digest: m.digest,
      size: m.bytes.length,
      mediaType: parsed.mediaType,
      url: this.client.manifestUrl(this.path, m.digest),
    });
    if (parsed.kind === 'image') {
      for (const d of [parsed.config, ...parsed.layers]) this.addBlob(d);
    }
  }

  /** Configs and layers: pinned here, downloaded (verified, resumable) by `airlock fetch`. */
  private addBlob(d: Descriptor): void {
    if (!this.blobs.has(d.digest))
      this.blobs.set(d.digest, { digest: d.digest, size: d.size, mediaType: d.mediaType, url: this.client.blobUrl(this.path, d.digest) });
  }

  async fetch(reference: string): Promise<{ m: FetchedManifest; parsed: ParsedManifest }> {
    const m = await this.client.manifest(this.path, reference, this.label);
    if (!m) throw new AirlockError('NOT_FOUND', `${this.label}: the registry has no manifest ${reference}`);
    return { m, parsed: parsed(m, this.label) };
  }
}

function parsed(m: FetchedManifest, label: string): ParsedManifest {
  try {
    return parseManifest(m.bytes, m.mediaType);
  } catch (e) {
    if (e instanceof ManifestError) throw new AirlockError('UPSTREAM_INVALID', `${label}: ${m.digest}: ${e.message}`);
    throw e;
  }
}

/** The index's entries for the wanted platforms, plus the attestations that describe them. */
function platformEntries(index: Extract<ParsedManifest, { kind: 'index' }>, wanted: Platform[] | undefined, label: string): Descriptor[] {
  if (!wanted) return index.manifests;
  const keep = index.manifests.filter(
    (d) => d.platform && d.annotations?.[REFERENCE_TYPE] === undefined && wanted.some((w) => platformMatches(d.platform!, w)),
  );
  for (const w of wanted) {
    if (!keep.some((d) => platformMatches(d.platform!, w))) {
      const has = index.manifests
        .filter((d) => d.platform && d.annotations?.[REFERENCE_TYPE] === undefined)
        .map((d) => formatPlatform(d.platform!));
      throw new AirlockError(
        'NOT_FOUND',
        `${label}: no image for ${formatPlatform(w)} (it has ${has.join(', ') || 'no platforms'}); set platforms: for this image`,
      );
    }
  }
  const kept = new Set(keep.map((d) => d.digest));
  const attestations = index.manifests.filter(
    (d) => d.annotations?.[REFERENCE_TYPE] === 'attestation-manifest' && kept.has(d.annotations[REFERENCE_DIGEST] as Digest),
  );
  return [...keep, ...attestations];
}

/** Referrers of a digest: the referrers API, else the `sha256-<hex>` tag the spec's fallback uses. */
async function referrersOf(client: RegistryClient, path: string, digest: Digest, label: string): Promise<Descriptor[]> {
  let body = await client.referrers(path, digest, label);
  if (!body) body = (await client.manifest(path, `sha256-${hexOf(digest)}`, label))?.bytes;
  if (!body) return [];
  let index: ParsedManifest;
  try {
    index = parseManifest(body, 'application/vnd.oci.image.index.v1+json');
  } catch (e) {
    throw new AirlockError('UPSTREAM_INVALID', `${label}: the referrers of ${digest} are not an index (${(e as Error).message})`);
  }
  return index.kind === 'index' ? index.manifests : [];
}

async function resolveImage(img: ImagesSection[number], ctx: ResolveContext, registries: RegistriesSection): Promise<LockedArtifact> {
  const ref: ImageReference = parseReference(img.ref);
  const repo = repositoryName(ref);
  const label = `oci:${formatReference(ref)}`;
  const client = registryClient(ctx.http, registryBase(ref.registry, registries[ref.registry]));
  const parts = new ImageParts(ctx, client, ref.path, label);
  const top = await parts.fetch(ref.digest ?? ref.tag!);
  await parts.addManifest(top.m, top.parsed);

  const wanted = img.platforms === 'all' ? undefined : (img.platforms ?? ctx.target.platforms).map(parsePlatform);
  const platforms: string[] = [];
  if (top.parsed.kind === 'index') {
    for (const d of platformEntries(top.parsed, wanted, label)) {
      const child = await parts.fetch(d.digest);
      if (child.parsed.kind !== 'image')
        throw new AirlockError('UPSTREAM_INVALID', `${label}: ${d.digest} is an index inside an index, which airlock does not carry`);
      await parts.addManifest(child.m, child.parsed);
      if (d.platform && d.annotations?.[REFERENCE_TYPE] === undefined) platforms.push(formatPlatform(d.platform));
    }
  }
  if (img.referrers) {
    for (const subject of parts.manifests.filter((m) => !m.subject).map((m) => m.digest)) {
      for (const d of await referrersOf(client, ref.path, subject, label)) {
        const r = await parts.fetch(d.digest);
        await parts.addManifest(r.m, r.parsed);
      }
    }
  }
  const refName = ref.tag ? `${repo}:${ref.tag}` : `${repo}@${top.m.digest}`;
  const metadata: OciImageMetadata = { refName, ...(ref.tag ? { tag: ref.tag } : {}), platforms, manifests: parts.manifests };
  ctx.reporter.info(`oci: ${refName} → ${top.m.digest} (${platforms.join(', ') || 'one manifest'}, ${parts.blobs.size} blobs)`);
  return {
    ecosystem: 'oci',
    key: `${refName.split('@')[0]}@${top.m.digest}`,
    name: repo,
    version: ref.tag ?? top.m.digest,
    digest: top.m.digest,
    size: top.m.bytes.length,
    mediaType: top.parsed.mediaType,
    source: client.manifestUrl(ref.path, ref.digest ?? ref.tag!),
    metadata: metadata as unknown as Record<string, unknown>,
    blobs: [...parts.blobs.values()],
  };
}

/** Resolves each image to digests for the target platforms; layers shared by images are listed once per image and stored once. */
export async function resolveImages(
  images: ImagesSection,
  ctx: ResolveContext,
  registries: RegistriesSection = {},
): Promise<LockedArtifact[]> {
  const out: LockedArtifact[] = [];
  for (const img of images) out.push(await resolveImage(img, ctx, registries));
  return out;
}
