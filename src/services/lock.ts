import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { AirlockError, describeError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fsutil.js';
import type { ResolveContext } from '../ecosystems/ecosystem.js';
import { ECOSYSTEMS } from '../ecosystems/registry.js';
import { type ExcludedArtifact, type Lockfile, LOCK_VERSION, parseLock, serializeLock } from '../manifest/lockfile.js';
import { type Manifest, loadManifest } from '../manifest/manifest.js';

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

/** Resolves every section of the manifest into pinned artifacts. Holds the write lock: resolving may fill the store. */
export async function lockManifest(manifest: Manifest, ctx: Omit<ResolveContext, 'target'>): Promise<Lockfile> {
  return ctx.store.withWriteLock('lock', async () => {
    const artifacts = [];
    const excluded: ExcludedArtifact[] = [];
    for (const { manifest: m } of ECOSYSTEMS) {
      const section = m && manifest.sections[m.key];
      if (!m || section === undefined) continue;
      const settings = m.settings ? manifest.sections[m.settings.key] : undefined;
      artifacts.push(...(await m.resolve(section, { ...ctx, target: manifest.target, exclude: (e) => excluded.push(e) }, settings)));
    }
    return { lockVersion: LOCK_VERSION, name: manifest.name, target: manifest.target, artifacts, ...(excluded.length ? { excluded } : {}) };
  });
}

export async function writeLockFile(path: string, lock: Lockfile): Promise<void> {
  await writeFileAtomic(path, serializeLock(lock));
}

export async function readLockFile(path: string): Promise<Lockfile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new AirlockError('LOCK_INVALID', `${path}: cannot read (${describeError(e)})`, { hint: 'run airlock lock first' });
  }
  return parseLock(text, path);
}
