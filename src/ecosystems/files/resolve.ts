import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { type Digest, parseDigest } from '../../core/digest.js';
import { AirlockError } from '../../core/errors.js';
import { tempPathFor } from '../../core/fsutil.js';
import { inParallel } from '../../core/http.js';
import { redactUrl } from '../../core/redact.js';
import type { LockedArtifact } from '../../manifest/lockfile.js';
import type { ResolveContext } from '../ecosystem.js';
import { type FileEntry, type FilesSection, servedPathOf } from './schema.js';

/** Requests at once: enough to hide each one's round trip, few enough for one upstream. */
const CONCURRENCY = 8;

/**
 * Pins each file by digest and size. A declared sha256 needs only the size, which the store
 * knows for a blob it holds and the upstream tells by HEAD or a one-byte Range; downloading
 * it is fetch's job, and fetch checks both digest and size, so a server that misstates the
 * size fails that fetch and stores nothing. A file without a sha256 is downloaded into the
 * store: that is how its digest is learnt.
 *
 * A `secretQuery` URL (signed, or with a token in its query) is a credential that expires: it
 * is used here, once, to put the file in the store, and the lock records it with the secret
 * values replaced by REDACTED and no download URL, so neither the lock nor the bundle holds
 * the secret and `fetch` never sends a mangled URL upstream; a store without the file needs
 * `airlock lock` again, with a fresh URL.
 */
export async function resolveFiles(section: FilesSection, ctx: ResolveContext): Promise<LockedArtifact[]> {
  const out: LockedArtifact[] = new Array(section.length);
  await inParallel(section, CONCURRENCY, async (entry, i) => {
    out[i] = await resolveOne(entry, ctx);
  });
  return out;
}

async function resolveOne(entry: FileEntry, ctx: ResolveContext): Promise<LockedArtifact> {
  const path = servedPathOf(entry);
  if (path === undefined)
    throw new AirlockError('CONFIG_INVALID', `files: ${redactUrl(entry.url)}: no served path; give this entry a path:`);
  const label = `files:${path}`;
  const declared = entry.sha256 ? parseDigest(entry.sha256, label) : undefined;
  let blob = declared ? await ctx.store.blobs.stat(declared) : undefined;
  if (!blob && declared && !entry.secretQuery) {
    const size = await ctx.http.remoteSize(entry.url, { label });
    if (size !== undefined) blob = { digest: declared, size };
  }
  blob ??= await download(entry, label, declared, ctx);
  return {
    ecosystem: 'files',
    key: path,
    name: path,
    version: '',
    digest: blob.digest,
    size: blob.size,
    source: entry.secretQuery ? redactUrl(entry.url, 'REDACTED') : entry.url,
    metadata: {},
    blobs: [{ digest: blob.digest, size: blob.size, ...(entry.secretQuery ? {} : { url: entry.url }) }],
  };
}

async function download(
  entry: FileEntry,
  label: string,
  declared: Digest | undefined,
  ctx: ResolveContext,
): Promise<{ digest: Digest; size: number }> {
  const dest = tempPathFor(join(await ctx.store.blobs.tempDir(), 'x'));
  const progress = ctx.reporter.progress(label, undefined);
  try {
    const blob = await ctx.http.download({
      url: entry.url,
      dest,
      label,
      ...(declared ? { expectedDigest: declared } : {}),
      onProgress: (done) => progress.update(done),
    });
    await ctx.store.blobs.adopt(dest, blob);
    if (!declared) ctx.reporter.info(`${label}: no sha256 given; recorded ${blob.digest} from what ${redactUrl(entry.url)} served`);
    return blob;
  } finally {
    progress.finish();
    await rm(dest, { force: true });
  }
}
