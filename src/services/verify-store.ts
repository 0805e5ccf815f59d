import { createHash } from 'node:crypto';
import { finished } from 'node:stream/promises';
import type { BlobStore } from '../core/blobstore.js';
import { eachBounded } from '../core/bounded.js';
import { HashingStream } from '../core/digest.js';
import type { Digest } from '../core/digest.js';
import type { Reporter } from '../core/report.js';
import type { Store } from '../core/store.js';

export interface StoreProblem {
  kind: 'corrupt-blob' | 'missing-blob' | 'wrong-size';
  digest: Digest;
  detail: string;
}

export interface StoreReport {
  blobs: number;
  bytes: number;
  references: number;
  problems: StoreProblem[];
}

/**
 * Blobs hashed (and references checked) at once. Small blobs cost their open, read and close
 * more than their hashing, and those wait on the thread pool, so several in flight keep it
 * busy while the main thread hashes; a bound keeps open files and buffers few.
 */
const IN_FLIGHT = 16;

/**
 * Blob sizes remembered from the hashing pass, for the reference pass to check without a
 * stat; past this many (about 15 MB of map), references to the rest stat their blob instead.
 */
const REMEMBERED = 100_000;

/** A blob's digest and size as its bytes say, read through the store's reused buffers when it has them. */
async function hashBlob(blobs: BlobStore, d: Digest): Promise<{ digest: Digest; size: number }> {
  if (blobs.pump) {
    const hash = createHash('sha256');
    let size = 0;
    await blobs.pump(d, undefined, async (chunk) => {
      hash.update(chunk);
      size += chunk.length;
    });
    return { digest: `sha256:${hash.digest('hex')}`, size };
  }
  const h = new HashingStream();
  const src = await blobs.open(d);
  src.on('error', (e) => h.destroy(e));
  src.pipe(h).resume();
  await finished(h);
  return { digest: h.digest(), size: h.size };
}

/** Problems in the order their blob or reference was listed, whichever call finished first. */
function inOrder(found: { at: number; problem: StoreProblem }[]): StoreProblem[] {
  return found.sort((a, b) => a.at - b.at).map((f) => f.problem);
}

/**
 * Re-hashes every blob and checks every database reference points at a present, right-sized
 * blob. Neither the blob listing nor the references are held whole, and the sizes kept from
 * the first pass for the second are bounded (REMEMBERED).
 */
export async function verifyStore(store: Store, reporter: Reporter): Promise<StoreReport> {
  const report: StoreReport = { blobs: 0, bytes: 0, references: 0, problems: [] };
  const corrupt: { at: number; problem: StoreProblem }[] = [];
  const sizes = new Map<Digest, number>();
  await eachBounded(store.blobs.list(), IN_FLIGHT, async (d, at) => {
    const got = await hashBlob(store.blobs, d);
    report.blobs++;
    report.bytes += got.size;
    if (sizes.size < REMEMBERED) sizes.set(d, got.size);
    if (got.digest !== d) {
      corrupt.push({
        at,
        problem: { kind: 'corrupt-blob', digest: d, detail: `blob ${d} is corrupt: its content hashes to ${got.digest}` },
      });
    }
  });
  const refs: { at: number; problem: StoreProblem }[] = [];
  await eachBounded(store.meta.blobReferences(), IN_FLIGHT, async (ref, at) => {
    report.references++;
    const size = sizes.get(ref.digest) ?? (await store.blobs.stat(ref.digest))?.size;
    if (size === undefined) {
      refs.push({
        at,
        problem: { kind: 'missing-blob', digest: ref.digest, detail: `${ref.artifact} needs blob ${ref.digest}, which is missing` },
      });
    } else if (size !== ref.size) {
      refs.push({
        at,
        problem: {
          kind: 'wrong-size',
          digest: ref.digest,
          detail: `${ref.artifact} says blob ${ref.digest} has ${ref.size} bytes; it has ${size}`,
        },
      });
    }
  });
  report.problems = [...inOrder(corrupt), ...inOrder(refs)];
  for (const p of report.problems) reporter.warn(p.detail);
  return report;
}
