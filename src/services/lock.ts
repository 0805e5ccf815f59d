import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { z } from 'zod';
import { digestOf } from '../core/digest.js';
import { AirlockError, describeError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fsutil.js';
import type { ResolveContext } from '../ecosystems/ecosystem.js';
import { ECOSYSTEMS } from '../ecosystems/registry.js';
import { type ExcludedArtifact, type LockedArtifact, type Lockfile, LOCK_VERSION, parseLock, serializeLock } from '../manifest/lockfile.js';
import { type Manifest, loadManifest } from '../manifest/manifest.js';
import { pushAll } from '../core/arrays.js';

/** Each ecosystem's airlock.yaml key and schema, for the manifest parser. */
export function manifestSections(): ReadonlyMap<string, z.ZodType> {
  return new Map(
    ECOSYSTEMS.flatMap((e) => {
      const m = e.manifest;
      if (!m) return [];
      return [[m.key, m.schema] as const, ...(m.settings ? [[m.settings.key, m.settings.schema] as const] : [])];
    }),
  );
}

export function readManifest(path: string): Promise<Manifest> {
  return loadManifest(path, manifestSections());
}

/**
 * Resolves every section of the manifest into pinned artifacts. Holds the write lock: resolving may fill the store.
 * `paths` (the manifest's file and where the lock goes) makes the lock record the manifest, so a later edit is noticed.
 */
export async function lockManifest(
  manifest: Manifest,
  ctx: Omit<ResolveContext, 'target'>,
  paths?: { manifest: string; lock: string },
): Promise<Lockfile> {
  return ctx.store.withWriteLock('lock', async () => {
    const artifacts: LockedArtifact[] = [];
    const excluded: ExcludedArtifact[] = [];
    for (const { manifest: m } of ECOSYSTEMS) {
      const section = m && manifest.sections[m.key];
      if (!m || section === undefined) continue;
      const settings = m.settings ? manifest.sections[m.settings.key] : undefined;
      pushAll(artifacts, await m.resolve(section, { ...ctx, target: manifest.target, exclude: (e) => excluded.push(e) }, settings));
    }
    const stamp = paths && { file: relative(dirname(resolve(paths.lock)), resolve(paths.manifest)), digest: manifest.digest };
    return {
      lockVersion: LOCK_VERSION,
      name: manifest.name,
      target: manifest.target,
      ...(stamp ? { manifest: stamp } : {}),
      artifacts,
      ...(excluded.length ? { excluded } : {}),
    };
  });
}

export async function writeLockFile(path: string, lock: Lockfile): Promise<void> {
  await writeFileAtomic(path, serializeLock(lock));
}

/**
 * Reads a lock to act on it. A lock whose manifest has been edited since is refused: fetching or
 * bundling it would silently leave out what the edit added. A lock carried without its manifest is used as it is.
 */
export async function readLockFile(path: string): Promise<Lockfile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new AirlockError('LOCK_INVALID', `${path}: cannot read (${describeError(e)})`, { hint: 'run airlock lock first' });
  }
  const lock = parseLock(text, path);
  if (lock.manifest) {
    const manifest = join(dirname(path), lock.manifest.file);
    let now: string | undefined;
    try {
      now = await readFile(manifest, 'utf8');
    } catch {
      now = undefined;
    }
    if (now !== undefined && digestOf(now) !== lock.manifest.digest) {
      throw new AirlockError('LOCK_STALE', `${path}: stale: ${manifest} has changed since it was locked`, {
        hint: `run airlock lock -f ${manifest} again (bundle create -f ${manifest} locks it now)`,
      });
    }
  }
  return lock;
}
