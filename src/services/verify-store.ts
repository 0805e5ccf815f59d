import { HashingStream } from '../core/digest.js';
import type { Digest } from '../core/digest.js';
import { finished } from 'node:stream/promises';
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

/** Re-hashes every blob and checks every database reference points at a present, right-sized blob. */
export async function verifyStore(store: Store, reporter: Reporter): Promise<StoreReport> {
  const report: StoreReport = { blobs: 0, bytes: 0, references: 0, problems: [] };
  const sizes = new Map<Digest, number>();
  for await (const d of store.blobs.list()) {
    const h = new HashingStream();
    const src = await store.blobs.open(d);
    src.on('error', (e) => h.destroy(e));
    src.pipe(h).resume();
    await finished(h);
    report.blobs++;
    report.bytes += h.size;
    sizes.set(d, h.size);
    if (h.digest() !== d) {
      report.problems.push({ kind: 'corrupt-blob', digest: d, detail: `blob ${d} is corrupt: its content hashes to ${h.digest()}` });
    }
  }
  for await (const ref of store.meta.blobReferences()) {
    report.references++;
    const size = sizes.get(ref.digest);
    if (size === undefined) {
      report.problems.push({ kind: 'missing-blob', digest: ref.digest, detail: `${ref.artifact} needs blob ${ref.digest}, which is missing` });
    } else if (size !== ref.size) {
      report.problems.push({
        kind: 'wrong-size',
        digest: ref.digest,
        detail: `${ref.artifact} says blob ${ref.digest} has ${ref.size} bytes; it has ${size}`,
      });
    }
  }
  for (const p of report.problems) reporter.warn(p.detail);
  return report;
}
