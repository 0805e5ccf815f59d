import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type ArtifactRecord, artifactLabel } from '../core/artifact.js';
import { eachBounded } from '../core/bounded.js';
import { hexOf } from '../core/digest.js';
import { AirlockError, describeError } from '../core/errors.js';
import type { HttpClient } from '../core/http.js';
import { audited } from '../core/metadata.js';
import type { Reporter } from '../core/report.js';
import type { Store } from '../core/store.js';
import { localActor } from '../audit/log.js';
import type { Ecosystem } from '../ecosystems/ecosystem.js';
import { ECOSYSTEMS } from '../ecosystems/registry.js';
import type { LockedArtifact, LockedBlob, Lockfile } from '../manifest/lockfile.js';

export interface FetchContext {
  store: Store;
  http: HttpClient;
  reporter: Reporter;
  concurrency?: number;
}

export interface FetchSummary {
  downloaded: number;
  present: number;
  bytes: number;
}

/** The lock's artifacts as the store records them: blob URLs belong to the lock only. */
export function recordsOf(lock: Lockfile): ArtifactRecord[] {
  return lock.artifacts.map((a) => ({ ...a, blobs: a.blobs.map(({ url: _url, ...b }) => b) }));
}

/**
 * Downloads every blob the store lacks, verifying each digest. Partial downloads keep a
 * stable name per blob, so an interrupted run resumes where it stopped. A failed artifact
 * stores nothing and the others carry on; the call fails at the end if any did.
 */
export async function fetchLock(lock: Lockfile, ctx: FetchContext): Promise<FetchSummary> {
  return ctx.store.withWriteLock('fetch', async () => {
    const summary: FetchSummary = { downloaded: 0, present: 0, bytes: 0 };
    const jobs: { artifact: LockedArtifact; blob: LockedBlob }[] = [];
    const queued = new Set<string>();
    for (const artifact of lock.artifacts) {
      for (const blob of artifact.blobs) {
        if (queued.has(blob.digest)) continue;
        queued.add(blob.digest);
        if (await ctx.store.blobs.stat(blob.digest)) summary.present++;
        else jobs.push({ artifact, blob });
      }
    }
    const failed = new Set<string>();
    await eachBounded(jobs, ctx.concurrency ?? 4, async ({ artifact, blob }) => {
      const label = artifactLabel(artifact);
      try {
        await fetchBlob(
          ctx,
          label,
          blob,
          ECOSYSTEMS.find((e) => e.id === artifact.ecosystem),
        );
        summary.downloaded++;
        summary.bytes += blob.size;
      } catch (e) {
        failed.add(label);
        ctx.reporter.warn(e instanceof AirlockError ? e.message : `${label}: ${describeError(e)}`);
      }
    });
    const complete = lock.artifacts.filter((a) => !failed.has(artifactLabel(a)));
    await audited(
      ctx.store.meta,
      {
        actor: localActor(),
        action: 'fetch',
        subject: lock.name,
        outcome: failed.size ? 'partial' : 'fetched',
        detail: { artifacts: complete.length, failed: failed.size },
      },
      (tx, because) => tx.putArtifacts(recordsOf({ ...lock, artifacts: complete }), null, because),
    );
    if (failed.size > 0) {
      throw new AirlockError(
        'NETWORK_ERROR',
        `${failed.size} of ${lock.artifacts.length} artifact(s) could not be fetched: ${[...failed].join(', ')}`,
        {
          hint: 'run airlock fetch again to retry (partial downloads resume)',
        },
      );
    }
    return summary;
  });
}

async function fetchBlob(ctx: FetchContext, label: string, blob: LockedBlob, ecosystem: Ecosystem | undefined): Promise<void> {
  if (!blob.url) throw new AirlockError('LOCK_INVALID', `${label}: blob ${blob.digest} has no download URL`);
  const headers = (await ecosystem?.fetchHeaders?.(blob.url, ctx.http)) ?? {};
  const dest = join(await ctx.store.blobs.tempDir(), `partial-${hexOf(blob.digest)}`);
  const progress = ctx.reporter.progress(label, blob.size);
  try {
    const got = await ctx.http.download({
      url: blob.url,
      dest,
      label,
      headers,
      expectedDigest: blob.digest,
      expectedSize: blob.size,
      onProgress: (done) => progress.update(done),
    });
    await ctx.store.blobs.adopt(dest, got);
  } catch (e) {
    // Keep a partial for resume, unless it was judged wrong.
    if (e instanceof AirlockError && e.code !== 'NETWORK_ERROR') await rm(dest, { force: true });
    throw e;
  } finally {
    progress.finish();
  }
}
