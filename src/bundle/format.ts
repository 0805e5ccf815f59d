import { hash } from 'node:crypto';
import { z } from 'zod';
import { type ArtifactRecord, compareArtifacts } from '../core/artifact.js';
import { canonicalJson } from '../core/canonical-json.js';
import { type Digest, digestOf, isDigest } from '../core/digest.js';
import { AirlockError } from '../core/errors.js';
import { MAX_JSON_DEPTH, jsonDepth } from '../core/json.js';
import { lockedArtifactSchema } from '../manifest/lockfile.js';
import { type Target, targetSchema } from '../manifest/target.js';
import { DigestTable } from './digest-table.js';
import { PackedBytes } from './packed-bytes.js';
import { arrayElements, isArrayAt, isJsonText, isObjectAt, objectMembers, parseSpan, topValue } from './json-scan.js';

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

/** Everything but the two long lists, which are checked entry by entry (checkManifest says why). */
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

/** Everything in a manifest but its two long lists. */
export type ManifestHead = Omit<BundleManifest, 'artifacts' | 'blobs'>;

/**
 * A checked manifest that keeps its bytes, deflated, and where each entry lies in them, not its
 * entries: each walk parses the entries again, one at a time, so a reader holds a fraction of
 * the bytes and one entry rather than the objects of every entry at once (docs/bundle-format.md,
 * Limits).
 */
export class ManifestEntries {
  constructor(
    /** The manifest's exact bytes, which import keeps in the store. */
    readonly bytes: PackedBytes,
    private readonly head: ManifestHead,
    /** Start and end offset of each element of the two lists, in pairs. */
    private readonly spans: { artifacts: Uint32Array; blobs: Uint32Array },
    /** The bytes of every blob it carries. */
    readonly totalSize: number,
  ) {}

  /** How many artifacts it lists. */
  get artifactCount(): number {
    return this.spans.artifacts.length / 2;
  }

  artifacts(): Generator<ArtifactRecord> {
    return packedElements<ArtifactRecord>(this.bytes, this.spans.artifacts);
  }

  blobs(): Generator<BlobPlacement> {
    return packedElements<BlobPlacement>(this.bytes, this.spans.blobs);
  }

  /** Every entry as objects at once: for `bundle inspect`, which shows them all. */
  whole(): BundleManifest {
    return { ...this.head, artifacts: [...this.artifacts()], blobs: [...this.blobs()] };
  }
}

function* packedElements<T>(bytes: PackedBytes, spans: Uint32Array): Generator<T> {
  const read = bytes.reader();
  // Spans start and end on ASCII bytes, so each decodes exactly as it does inside the whole document.
  for (let i = 0; i < spans.length; i += 2) yield JSON.parse(read(spans[i]!, spans[i + 1]!).toString('utf8')) as T;
}

function* parsedElements<T>(bytes: Buffer, at: number): Generator<T> {
  for (const s of arrayElements(bytes, at)) yield parseSpan(bytes, s) as T;
}

const LISTS = new Set(['artifacts', 'blobs']);

/**
 * Checks an untrusted manifest: schema, version, and internal consistency (every artifact blob
 * is placed exactly once, every placement points at a real volume, chunk sizes add up). It
 * accepts and refuses exactly what parsing it whole would, in the same order, with the same
 * message. Throws BUNDLE_VERSION or BUNDLE_INVALID naming `label`.
 */
export function checkManifest(bytes: Buffer, label: string): { head: ManifestHead; entries: ManifestEntries } {
  const invalidJson = (): AirlockError => new AirlockError('BUNDLE_INVALID', `${label}: the bundle manifest is not valid JSON`);
  // Depth is bounded before anything else: a deep document parses, then overflows whatever walks it on import.
  if (jsonDepth(bytes, MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
    throw new AirlockError('BUNDLE_INVALID', `${label}: the bundle manifest is nested deeper than ${MAX_JSON_DEPTH} levels`);
  if (!isJsonText(bytes)) throw invalidJson();
  // The document without its two lists is parsed whole, so duplicate keys and odd names behave
  // as JSON.parse has them; each list that is an array stays in the bytes, found by offset.
  const top = topValue(bytes);
  let raw: unknown = null;
  const lists = { artifacts: -1, blobs: -1 };
  if (isObjectAt(bytes, top)) {
    const members: string[] = [];
    for (const { key, value } of objectMembers(bytes, top)) {
      const name = parseSpan(bytes, key) as string;
      const list = LISTS.has(name) && isArrayAt(bytes, value.start);
      if (list) lists[name as keyof typeof lists] = value.start;
      members.push(`${bytes.toString('utf8', key.start, key.end)}:${list ? '[]' : bytes.toString('utf8', value.start, value.end)}`);
    }
    raw = JSON.parse(`{${members.join(',')}}`);
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
  const parsed = headSchema.safeParse(raw);
  if (!parsed.success) fail(parsed.error.issues[0]!, []);
  const { artifacts: _a, blobs: _b, ...head } = parsed.data!;
  // The head passed, so both lists are arrays: the last member of each name is the one that counts, and the one kept.
  const spans = { artifacts: [] as number[], blobs: [] as number[] };
  for (const s of arrayElements(bytes, lists.artifacts)) {
    const res = artifactSchema.safeParse(parseSpan(bytes, s));
    if (!res.success) fail(res.error.issues[0]!, ['artifacts', spans.artifacts.length / 2]);
    spans.artifacts.push(s.start, s.end);
  }
  for (const s of arrayElements(bytes, lists.blobs)) {
    const res = placementSchema.safeParse(parseSpan(bytes, s));
    if (!res.success) fail(res.error.issues[0]!, ['blobs', spans.blobs.length / 2]);
    spans.blobs.push(s.start, s.end);
  }
  const totalSize = checkConsistency(
    head,
    parsedElements<BlobPlacement>(bytes, lists.blobs),
    parsedElements<ArtifactRecord>(bytes, lists.artifacts),
    label,
  );
  const where = { artifacts: Uint32Array.from(spans.artifacts), blobs: Uint32Array.from(spans.blobs) };
  return { head, entries: new ManifestEntries(new PackedBytes(bytes), head, where, totalSize) };
}

/** Returns the bytes of all blobs, which it adds up on the way. */
function checkConsistency(m: ManifestHead, blobs: Iterable<BlobPlacement>, artifacts: Iterable<ArtifactRecord>, label: string): number {
  const bad = (msg: string): never => {
    throw new AirlockError('BUNDLE_INVALID', `${label}: bundle manifest ${msg}`);
  };
  // Sizes only, what the artifacts' check needs of each placement, and no string per entry kept.
  const placed = new DigestTable();
  let total = 0;
  for (const p of blobs) {
    if (!placed.add(p.digest, p.size)) bad(`places blob ${p.digest} twice`);
    total += p.size;
    if ((p.volume === undefined) === (p.chunks === undefined)) bad(`blob ${p.digest} needs exactly one of volume or chunks`);
    if (p.volume !== undefined && p.volume > m.volumes) bad(`puts blob ${p.digest} in volume ${p.volume} of ${m.volumes}`);
    if (p.chunks) {
      const sum = p.chunks.reduce((n, c) => n + c.size, 0);
      if (sum !== p.size) bad(`chunks of blob ${p.digest} add up to ${sum} bytes, not ${p.size}`);
      for (const c of p.chunks) if (c.volume > m.volumes) bad(`puts a chunk of ${p.digest} in volume ${c.volume} of ${m.volumes}`);
    }
  }
  // Ids are told apart by their sha256, as blobs are.
  const ids = new DigestTable();
  for (const a of artifacts) {
    const id = `${a.ecosystem}:${a.key}`;
    if (!ids.addBytes(hash('sha256', id, 'buffer'))) bad(`lists artifact ${id} twice`);
    if (!a.blobs.some((b) => b.digest === a.digest)) bad(`artifact ${id} does not list its primary blob`);
    for (const b of a.blobs) {
      const size = placed.get(b.digest);
      if (size === undefined) bad(`artifact ${id} needs blob ${b.digest}, which the bundle does not carry`);
      else if (size !== b.size) bad(`artifact ${id} says blob ${b.digest} has ${b.size} bytes, the bundle says ${size}`);
    }
  }
  return total;
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
  return [...volumeEntries(m.blobs, volume)];
}

/** volumeContents one entry at a time, from placements read as they are needed. */
export function* volumeEntries(blobs: Iterable<BlobPlacement>, volume: number): Generator<VolumeEntry> {
  const seen = new DigestTable();
  for (const p of blobs) {
    if (p.volume === volume && seen.add(p.digest)) yield { digest: p.digest, size: p.size, source: p.digest, start: 0 };
    let start = 0;
    for (const c of p.chunks ?? []) {
      if (c.volume === volume && seen.add(c.digest)) yield { digest: c.digest, size: c.size, source: p.digest, start };
      start += c.size;
    }
  }
}
