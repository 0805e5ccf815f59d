import { z } from 'zod';
import { type ArtifactRecord, compareArtifacts } from '../core/artifact.js';
import { canonicalJson } from '../core/canonical-json.js';
import { type Digest, digestOf, isDigest } from '../core/digest.js';
import { AirlockError } from '../core/errors.js';
import { JsonLimitError, parseJsonBounded } from '../core/json.js';
import { lockedArtifactSchema } from '../manifest/lockfile.js';
import { type Target, targetSchema } from '../manifest/target.js';

/** Bundle format v1: constants, the manifest document, and its pure parse/serialize. */
export const FORMAT_VERSION = 1;
export const MANIFEST_MEDIA_TYPE = 'application/vnd.airlock.bundle.manifest.v1+json';
export const OCI_INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
export const OCI_LAYOUT = '{"imageLayoutVersion":"1.0.0"}';
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
export const MANIFEST_REF_NAME = 'airlock-bundle-manifest';
export const VOLUME_ANNOTATION = 'dev.airlock.bundle.volume';
export const BUNDLE_EXTENSION = '.airlock';

/** A piece of a blob too large for one volume; stored as a blob named by its own digest. */
export interface ChunkPlacement {
  digest: Digest;
  size: number;
  volume: number;
}

/** Where each blob of the bundle travels: whole in one volume, or as ordered chunks. */
export interface BlobPlacement {
  digest: Digest;
  size: number;
  volume?: number;
  chunks?: ChunkPlacement[];
}

export interface BundleManifest {
  mediaType: typeof MANIFEST_MEDIA_TYPE;
  formatVersion: typeof FORMAT_VERSION;
  name: string;
  sequence: number;
  creator: string;
  target: Target;
  lockDigest: Digest;
  volumes: number;
  artifacts: ArtifactRecord[];
  blobs: BlobPlacement[];
}

const digest = z.string().refine(isDigest, 'expected sha256:<64 hex>');
const volumeNo = z.number().int().min(1);

const placementSchema = z
  .object({
    digest,
    size: z.number().int().nonnegative(),
    volume: volumeNo.optional(),
    chunks: z
      .array(z.object({ digest, size: z.number().int().positive(), volume: volumeNo }).strict())
      .min(2)
      .optional(),
  })
  .strict();

const artifactSchema = lockedArtifactSchema.omit({ blobs: true }).extend({
  blobs: z.array(z.object({ digest, size: z.number().int().nonnegative(), mediaType: z.string().optional() }).strict()).min(1),
});

/** Everything but the two long lists, which are checked entry by entry (parseManifest says why). */
const headSchema = z
  .object({
    mediaType: z.literal(MANIFEST_MEDIA_TYPE),
    formatVersion: z.literal(FORMAT_VERSION),
    name: z.string().min(1).max(200),
    sequence: z.number().int().nonnegative(),
    creator: z.string().max(500),
    target: targetSchema,
    lockDigest: digest,
    volumes: z.number().int().min(1).max(9999),
    artifacts: z.array(z.unknown()),
    blobs: z.array(z.unknown()),
  })
  .strict();

/** The manifest's bytes; its digest is the bundle's identity. */
export function serializeManifest(m: BundleManifest): string {
  return canonicalJson({ ...m, artifacts: [...m.artifacts].sort(compareArtifacts) });
}

export function manifestDigest(bytes: string | Uint8Array): Digest {
  return digestOf(bytes);
}

/**
 * Parses and checks an untrusted manifest: schema, version, and internal consistency (every
 * artifact blob is placed exactly once, every placement points at a real volume, chunk sizes
 * add up). Throws BUNDLE_VERSION or BUNDLE_INVALID naming `label`.
 */
export function parseManifest(bytes: Buffer, label: string): BundleManifest {
  let raw: unknown;
  try {
    // Depth is bounded before parsing: a deep document parses, then overflows whatever walks it on import.
    raw = parseJsonBounded(bytes);
  } catch (e) {
    if (e instanceof JsonLimitError) throw new AirlockError('BUNDLE_INVALID', `${label}: the bundle manifest is ${e.message}`);
    throw new AirlockError('BUNDLE_INVALID', `${label}: the bundle manifest is not valid JSON`);
  }
  const r = raw as { mediaType?: unknown; formatVersion?: unknown } | null;
  if (r?.mediaType !== MANIFEST_MEDIA_TYPE || r.formatVersion !== FORMAT_VERSION) {
    throw new AirlockError(
      'BUNDLE_VERSION',
      `${label}: bundle format ${String(r?.mediaType)} version ${String(r?.formatVersion)} is not supported (this airlock reads ${MANIFEST_MEDIA_TYPE} version ${FORMAT_VERSION})`,
    );
  }
  const fail = (issue: z.core.$ZodIssue, at: (string | number)[]): never => {
    throw new AirlockError('BUNDLE_INVALID', `${label}: bundle manifest field ${[...at, ...issue.path].join('.')}: ${issue.message}`);
  };
  const head = headSchema.safeParse(raw);
  if (!head.success) fail(head.error.issues[0]!, []);
  // Each entry is checked alone and the parsed JSON kept, not zod's copy: a copy of every entry
  // doubled the manifest's memory (these schemas have no defaults or transforms, so the two are equal).
  const m = { ...head.data!, artifacts: (raw as BundleManifest).artifacts, blobs: (raw as BundleManifest).blobs } as BundleManifest;
  m.artifacts.forEach((a, i) => {
    const r = artifactSchema.safeParse(a);
    if (!r.success) fail(r.error.issues[0]!, ['artifacts', i]);
  });
  m.blobs.forEach((p, i) => {
    const r = placementSchema.safeParse(p);
    if (!r.success) fail(r.error.issues[0]!, ['blobs', i]);
  });
  checkConsistency(m, label);
  return m;
}

function checkConsistency(m: BundleManifest, label: string): void {
  const bad = (msg: string): never => {
    throw new AirlockError('BUNDLE_INVALID', `${label}: bundle manifest ${msg}`);
  };
  const placed = new Map<string, BlobPlacement>();
  for (const p of m.blobs) {
    if (placed.has(p.digest)) bad(`places blob ${p.digest} twice`);
    placed.set(p.digest, p);
    if ((p.volume === undefined) === (p.chunks === undefined)) bad(`blob ${p.digest} needs exactly one of volume or chunks`);
    if (p.volume !== undefined && p.volume > m.volumes) bad(`puts blob ${p.digest} in volume ${p.volume} of ${m.volumes}`);
    if (p.chunks) {
      const total = p.chunks.reduce((n, c) => n + c.size, 0);
      if (total !== p.size) bad(`chunks of blob ${p.digest} add up to ${total} bytes, not ${p.size}`);
      for (const c of p.chunks) if (c.volume > m.volumes) bad(`puts a chunk of ${p.digest} in volume ${c.volume} of ${m.volumes}`);
    }
  }
  const keys = new Set<string>();
  for (const a of m.artifacts) {
    const id = `${a.ecosystem}:${a.key}`;
    if (keys.has(id)) bad(`lists artifact ${id} twice`);
    keys.add(id);
    if (!a.blobs.some((b) => b.digest === a.digest)) bad(`artifact ${id} does not list its primary blob`);
    for (const b of a.blobs) {
      const p = placed.get(b.digest);
      if (!p) bad(`artifact ${id} needs blob ${b.digest}, which the bundle does not carry`);
      else if (p.size !== b.size) bad(`artifact ${id} says blob ${b.digest} has ${b.size} bytes, the bundle says ${p.size}`);
    }
  }
}

/** Tar entry name of a blob in the layout. */
export function blobEntryName(d: Digest): string {
  return `blobs/sha256/${d.slice(7)}`;
}

/** `OUT.airlock` → `OUT.vol-002-of-003.airlock` for volume sets. */
export function volumeFileName(out: string, volume: number, count: number): string {
  const base = out.endsWith(BUNDLE_EXTENSION) ? out.slice(0, -BUNDLE_EXTENSION.length) : out;
  const pad = (n: number): string => String(n).padStart(3, '0');
  return `${base}.vol-${pad(volume)}-of-${pad(count)}${BUNDLE_EXTENSION}`;
}

/** One tar entry of a volume: a whole blob, or a chunk read from `source` at `start`. */
export interface VolumeEntry {
  digest: Digest;
  size: number;
  source: Digest;
  start: number;
}

/** What each volume carries, in tar order (manifest order), each digest once. */
export function volumeContents(m: BundleManifest, volume: number): VolumeEntry[] {
  const out: VolumeEntry[] = [];
  const seen = new Set<Digest>();
  const add = (e: VolumeEntry): void => {
    if (seen.has(e.digest)) return;
    seen.add(e.digest);
    out.push(e);
  };
  for (const p of m.blobs) {
    if (p.volume === volume) add({ digest: p.digest, size: p.size, source: p.digest, start: 0 });
    let start = 0;
    for (const c of p.chunks ?? []) {
      if (c.volume === volume) add({ digest: c.digest, size: c.size, source: p.digest, start });
      start += c.size;
    }
  }
  return out;
}
