import { type Digest, type Sha512Digest, isDigest, isSha512Digest } from '../../core/digest.js';
import { JsonLimitError, parseJsonBounded } from '../../core/json.js';
import { isIndexType, isManifestType } from './media-types.js';
import type { Platform } from './platform.js';

/** What a pushed document may name content by; what airlock locks and saves is sha256 only. */
export type OciDigest = Digest | Sha512Digest;

export function isOciDigest(s: unknown): s is OciDigest {
  return isDigest(s) || isSha512Digest(s);
}

/** A content descriptor (OCI image-spec descriptor.md). */
export interface Descriptor<D extends OciDigest = Digest> {
  mediaType: string;
  digest: D;
  size: number;
  platform?: Platform;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export type ParsedManifest<D extends OciDigest = Digest> =
  | {
      kind: 'index';
      mediaType: string;
      manifests: Descriptor<D>[];
      subject?: Descriptor<D>;
      artifactType?: string;
      annotations?: Record<string, string>;
    }
  | {
      kind: 'image';
      mediaType: string;
      config: Descriptor<D>;
      layers: Descriptor<D>[];
      subject?: Descriptor<D>;
      artifactType?: string;
      annotations?: Record<string, string>;
    };

export class ManifestError extends Error {}

const MAX_MANIFEST = 4 << 20;

function descriptor(v: unknown, where: string, sha512: boolean): Descriptor<OciDigest> {
  const d = v as Record<string, unknown> | null;
  if (!d || typeof d !== 'object') throw new ManifestError(`${where} is not a descriptor`);
  if (typeof d.mediaType !== 'string') throw new ManifestError(`${where} has no mediaType`);
  if (!(sha512 ? isOciDigest(d.digest) : isDigest(d.digest)))
    throw new ManifestError(`${where} has no ${sha512 ? 'sha256 or sha512' : 'sha256'} digest`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw new ManifestError(`${where} has a bad size`);
  const out: Descriptor<OciDigest> = { mediaType: d.mediaType, digest: d.digest as OciDigest, size: d.size };
  const p = d.platform as Record<string, unknown> | undefined;
  if (p && typeof p.os === 'string' && typeof p.architecture === 'string') {
    out.platform = { os: p.os, architecture: p.architecture, ...(typeof p.variant === 'string' ? { variant: p.variant } : {}) };
  }
  if (typeof d.artifactType === 'string') out.artifactType = d.artifactType;
  if (d.annotations && typeof d.annotations === 'object') out.annotations = d.annotations as Record<string, string>;
  return out;
}

/** The image spec's annotations rule: a map of strings to strings, and nothing else. */
function stringMap(v: unknown): Record<string, string> {
  if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw new ManifestError('annotations must map strings to strings');
  }
  return v as Record<string, string>;
}

/**
 * Reads a manifest or index as an untrusted document. The media type comes from the
 * document's own `mediaType` when present (it must then agree with the one the registry
 * sent), else from the Content-Type. Descriptors must name sha256 digests, unless `sha512`
 * (what a push may carry) also allows sha512 ones.
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest;
export function parseManifest(bytes: Buffer, contentType: string | undefined, opts: { sha512: true }): ParsedManifest<OciDigest>;
export function parseManifest(bytes: Buffer, contentType: string | undefined, opts: { sha512?: boolean } = {}): ParsedManifest<OciDigest> {
  const sha512 = opts.sha512 === true;
  if (bytes.length > MAX_MANIFEST) throw new ManifestError(`manifest is ${bytes.length} bytes (limit ${MAX_MANIFEST})`);
  let doc: Record<string, unknown>;
  try {
    doc = parseJsonBounded(bytes) as Record<string, unknown>;
  } catch (e) {
    throw new ManifestError(e instanceof JsonLimitError ? `manifest is ${e.message}` : 'manifest is not JSON');
  }
  if (!doc || typeof doc !== 'object' || doc.schemaVersion !== 2) throw new ManifestError('manifest is not schemaVersion 2');
  const declared = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const sent = contentType?.split(';')[0]!.trim();
  const mediaType =
    declared ??
    (sent && isManifestType(sent)
      ? sent
      : Array.isArray(doc.manifests)
        ? 'application/vnd.oci.image.index.v1+json'
        : 'application/vnd.oci.image.manifest.v1+json');
  if (!isManifestType(mediaType)) throw new ManifestError(`unsupported manifest media type ${mediaType}`);
  const extra = {
    ...(doc.subject ? { subject: descriptor(doc.subject, 'subject', sha512) } : {}),
    ...(typeof doc.artifactType === 'string' ? { artifactType: doc.artifactType } : {}),
    ...(doc.annotations !== undefined ? { annotations: stringMap(doc.annotations) } : {}),
  };
  if (isIndexType(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw new ManifestError('index has no manifests');
    return { kind: 'index', mediaType, manifests: doc.manifests.map((m, i) => descriptor(m, `manifests[${i}]`, sha512)), ...extra };
  }
  if (!Array.isArray(doc.layers)) throw new ManifestError('image manifest has no layers');
  return {
    kind: 'image',
    mediaType,
    config: descriptor(doc.config, 'config', sha512),
    layers: doc.layers.map((l, i) => descriptor(l, `layers[${i}]`, sha512)),
    ...extra,
  };
}
