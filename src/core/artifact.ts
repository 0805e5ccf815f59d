import type { Digest } from './digest.js';

/** One blob an artifact consists of. */
export interface ArtifactBlob {
  digest: Digest;
  size: number;
  mediaType?: string;
}

/**
 * What every stage agrees an artifact is: the lockfile pins it, the bundle manifest carries it,
 * the store indexes it. `key` is unique within the ecosystem (a served path, a wheel filename,
 * an image reference); `digest`/`size` name its primary blob; `blobs` lists every blob it
 * needs, the primary one included.
 */
export interface ArtifactRecord {
  ecosystem: string;
  key: string;
  name: string;
  version: string;
  digest: Digest;
  size: number;
  mediaType?: string;
  source?: string;
  metadata: Record<string, unknown>;
  blobs: ArtifactBlob[];
}

export interface StoredArtifact extends ArtifactRecord {
  id: number;
  bundleId: string | null;
  createdAt: string;
}

export function artifactLabel(a: Pick<ArtifactRecord, 'ecosystem' | 'key'>): string {
  return `${a.ecosystem}:${a.key}`;
}

/** Stable order for locks, manifests and listings. */
export function compareArtifacts(a: ArtifactRecord, b: ArtifactRecord): number {
  return a.ecosystem < b.ecosystem ? -1 : a.ecosystem > b.ecosystem ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/** What listings (CLI --json, /api/artifacts) say about an artifact. */
export function artifactSummary(a: StoredArtifact) {
  return {
    ecosystem: a.ecosystem,
    key: a.key,
    name: a.name,
    version: a.version,
    size: a.size,
    digest: a.digest,
    bundleId: a.bundleId,
  };
}
