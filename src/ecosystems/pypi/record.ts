import type { ArtifactRecord } from '../../core/artifact.js';
import { type Digest, isDigest } from '../../core/digest.js';

/** What a pypi artifact row keeps beside its digest: the index's per-file facts. */
export interface PypiFileMetadata {
  filename: string;
  requiresPython?: string;
  yanked: boolean | string;
  uploadTime?: string;
  /** The `.metadata` file (PEP 658), a blob of its own. */
  coreMetadata?: { digest: Digest; size: number };
}

/** Reads the metadata JSON back defensively: rows may come from older bundles. */
export function readPypiMetadata(a: Pick<ArtifactRecord, 'key' | 'metadata'>): PypiFileMetadata {
  const m = a.metadata as Partial<Record<keyof PypiFileMetadata, unknown>>;
  const cm = m.coreMetadata as { digest?: unknown; size?: unknown } | undefined;
  return {
    filename: typeof m.filename === 'string' ? m.filename : a.key,
    yanked: typeof m.yanked === 'string' || typeof m.yanked === 'boolean' ? m.yanked : false,
    ...(typeof m.requiresPython === 'string' ? { requiresPython: m.requiresPython } : {}),
    ...(typeof m.uploadTime === 'string' ? { uploadTime: m.uploadTime } : {}),
    ...(cm && isDigest(cm.digest) && typeof cm.size === 'number' ? { coreMetadata: { digest: cm.digest, size: cm.size } } : {}),
  };
}
