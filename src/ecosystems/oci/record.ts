import type { Digest } from '../../core/digest.js';
import type { OciDigest, ParsedManifest } from './manifest.js';

/** One manifest an image artifact carries: the top one, per-platform ones, referrers. */
export interface StoredManifest {
  digest: Digest;
  mediaType: string;
  size: number;
  /** The manifest this one refers to (OCI 1.1 `subject`): signatures, SBOMs, attestations. */
  subject?: OciDigest;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** `metadata` of an `oci` artifact: what the lock, bundle and `/v2/` server need of an image. */
export interface OciImageMetadata {
  /** `docker.io/library/nginx:1.27-alpine` (or `…@sha256:…` when pinned by digest): the bundle's ref.name. */
  refName: string;
  /** The tag this image was pulled by, if any. */
  tag?: string;
  /** Platforms kept from an index; empty for a single-platform manifest. */
  platforms: string[];
  manifests: StoredManifest[];
}

export function readOciMetadata(m: Record<string, unknown>): OciImageMetadata | undefined {
  if (typeof m.refName !== 'string' || !Array.isArray(m.manifests)) return undefined;
  return m as unknown as OciImageMetadata;
}

/**
 * A manifest's record, from its own bytes: whoever writes it (a lock, a push of it, a push of
 * an index listing it) writes the same record, so none can hide another's subject.
 */
export function storedManifest(digest: Digest, size: number, parsed: ParsedManifest<OciDigest>): StoredManifest {
  return {
    digest,
    mediaType: parsed.mediaType,
    size,
    ...(parsed.subject ? { subject: parsed.subject.digest } : {}),
    ...(parsed.artifactType ? { artifactType: parsed.artifactType } : {}),
    ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
  };
}
