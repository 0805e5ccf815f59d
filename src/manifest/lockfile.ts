import { z } from 'zod';
import { type ArtifactBlob, type ArtifactRecord, compareArtifacts } from '../core/artifact.js';
import { canonicalJson } from '../core/canonical-json.js';
import { type Digest, isDigest } from '../core/digest.js';
import { AirlockError } from '../core/errors.js';
import { targetSchema } from './target.js';

export const LOCK_VERSION = 1;

/** A pinned blob and where the connected side downloads it from. */
export interface LockedBlob extends ArtifactBlob {
  url?: string;
}

export interface LockedArtifact extends ArtifactRecord {
  blobs: LockedBlob[];
}

/** The airlock.yaml a lock was made from: its path from the lock's folder, and the digest of its text. */
export interface ManifestStamp {
  file: string;
  digest: Digest;
}

/**
 * What a manifest's inputs named but the lock does not carry, and why (an npm build for a
 * platform no target has), so `lock --explain` can say so without resolving again.
 */
export interface ExcludedArtifact {
  ecosystem: string;
  key: string;
  name: string;
  version: string;
  reason: string;
  /** Who asked for it, as the ecosystem's explanations name them. */
  requiredBy: string[];
}

export interface Lockfile {
  lockVersion: typeof LOCK_VERSION;
  name: string;
  target: z.infer<typeof targetSchema>;
  /** Absent in locks written before airlock recorded it; those are never called stale. */
  manifest?: ManifestStamp;
  artifacts: LockedArtifact[];
  /** Absent when nothing was left out, so such locks read as before. */
  excluded?: ExcludedArtifact[];
}

const digest = z.string().refine(isDigest, 'expected sha256:<64 hex>');

const blobSchema = z
  .object({
    digest,
    size: z.number().int().nonnegative(),
    mediaType: z.string().optional(),
    url: z.url().optional(),
  })
  .strict();

export const lockedArtifactSchema = z
  .object({
    ecosystem: z.string().min(1),
    key: z.string().min(1),
    name: z.string().min(1),
    version: z.string(),
    digest,
    size: z.number().int().nonnegative(),
    mediaType: z.string().optional(),
    source: z.string().optional(),
    metadata: z.record(z.string(), z.unknown()),
    blobs: z.array(blobSchema).min(1),
  })
  .strict();

const excludedSchema = z
  .object({
    ecosystem: z.string().min(1),
    key: z.string().min(1),
    name: z.string().min(1),
    version: z.string(),
    reason: z.string().min(1),
    requiredBy: z.array(z.string()),
  })
  .strict();

const lockSchema = z
  .object({
    lockVersion: z.literal(LOCK_VERSION),
    name: z.string().min(1),
    target: targetSchema,
    manifest: z
      .object({ file: z.string().min(1), digest })
      .strict()
      .optional(),
    artifacts: z.array(lockedArtifactSchema),
    excluded: z.array(excludedSchema).optional(),
  })
  .strict();

/** Deterministic bytes: artifacts and exclusions sorted by ecosystem and key, keys sorted; no `excluded` when empty. */
export function serializeLock(lock: Lockfile): string {
  const { excluded, ...rest } = lock;
  const byKey = (a: { ecosystem: string; key: string }, b: { ecosystem: string; key: string }) =>
    a.ecosystem < b.ecosystem ? -1 : a.ecosystem > b.ecosystem ? 1 : a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
  return canonicalJson({
    ...rest,
    artifacts: [...lock.artifacts].sort(compareArtifacts),
    ...(excluded?.length ? { excluded: excluded.map((e) => ({ ...e, requiredBy: [...new Set(e.requiredBy)].sort() })).sort(byKey) } : {}),
  });
}

export function parseLock(text: string, file: string): Lockfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new AirlockError('LOCK_INVALID', `${file}: not valid JSON (${(e as Error).message})`);
  }
  const version = (raw as { lockVersion?: unknown } | null)?.lockVersion;
  if (version !== LOCK_VERSION) {
    throw new AirlockError('LOCK_INVALID', `${file}: lockVersion ${String(version)} is not supported (expected ${LOCK_VERSION})`, {
      hint: 'run airlock lock again with this version of airlock',
    });
  }
  const parsed = lockSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AirlockError('LOCK_INVALID', `${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const lock = parsed.data as Lockfile;
  const seen = new Set<string>();
  for (const a of lock.artifacts) {
    const id = `${a.ecosystem}:${a.key}`;
    if (seen.has(id)) throw new AirlockError('LOCK_INVALID', `${file}: artifact ${id} is listed twice`);
    seen.add(id);
  }
  const left = new Set<string>();
  for (const e of lock.excluded ?? []) {
    const id = `${e.ecosystem}:${e.key}`;
    if (left.has(id)) throw new AirlockError('LOCK_INVALID', `${file}: excluded ${id} is listed twice`);
    left.add(id);
  }
  return lock;
}
