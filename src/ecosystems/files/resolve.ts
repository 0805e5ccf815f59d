import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { parseDigest } from '../../core/digest.js';
import { tempPathFor } from '../../core/fsutil.js';
import type { LockedArtifact } from '../../manifest/lockfile.js';
import type { ResolveContext } from '../ecosystem.js';
import { type FileEntry, type FilesSection, servedPathOf } from './schema.js';

/**
 * Pins each file by digest and size. A declared sha256 already in the store needs no
 * network; anything else is downloaded into the store (and so is ready for fetch/bundle).
 */
export async function resolveFiles(section: FilesSection, ctx: ResolveContext): Promise<LockedArtifact[]> {
  const out: LockedArtifact[] = [];
  for (const entry of section) out.push(await resolveOne(entry, ctx));
  return out;
}

async function resolveOne(entry: FileEntry, ctx: ResolveContext): Promise<LockedArtifact> {
  const path = servedPathOf(entry);
  const label = `files:${path}`;
  const declared = entry.sha256 ? parseDigest(entry.sha256, label) : undefined;
  let blob = declared ? await ctx.store.blobs.stat(declared) : undefined;
  if (!blob) {
    const dest = tempPathFor(join(await ctx.store.blobs.tempDir(), 'x'));
    const progress = ctx.reporter.progress(label, undefined);
    try {
      blob = await ctx.http.download({
        url: entry.url,
        dest,
        label,
        ...(declared ? { expectedDigest: declared } : {}),
        onProgress: (done) => progress.update(done),
      });
      await ctx.store.blobs.adopt(dest, blob);
    } finally {
      progress.finish();
      await rm(dest, { force: true });
    }
    if (!declared) ctx.reporter.info(`${label}: no sha256 given; recorded ${blob.digest} from what ${entry.url} served`);
  }
  return {
    ecosystem: 'files',
    key: path,
    name: path,
    version: '',
    digest: blob.digest,
    size: blob.size,
    source: entry.url,
    metadata: {},
    blobs: [{ digest: blob.digest, size: blob.size, url: entry.url }],
  };
}
