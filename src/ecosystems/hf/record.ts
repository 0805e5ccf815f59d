import type { Digest } from '../../core/digest.js';

/** One file of a snapshot: what the tree API says of it, and the blob that holds it. */
export interface HfFile {
  path: string;
  size: number;
  /** The git blob sha1 (of the pointer, for LFS files). */
  oid: string;
  lfs?: { sha256: string; size: number; pointerSize?: number };
  digest: Digest;
}

/** `metadata` of an `hf` artifact: one repository at one commit. */
export interface HfSnapshot {
  type: 'model' | 'dataset';
  repo: string;
  commit: string;
  /** The branch or tag the manifest asked for (or the commit itself). */
  revision: string;
  files: HfFile[];
}

export function readSnapshot(m: Record<string, unknown>): HfSnapshot | undefined {
  return typeof m.commit === 'string' && Array.isArray(m.files) && (m.type === 'model' || m.type === 'dataset')
    ? (m as unknown as HfSnapshot)
    : undefined;
}

/** `models/org/name` or `datasets/org/name`: the artifact name, and the Hub's API path segment. */
export function repoKey(type: HfSnapshot['type'], repo: string): string {
  return `${type}s/${repo}`;
}
