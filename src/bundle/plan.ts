import type { Digest } from '../core/digest.js';
import { AirlockError } from '../core/errors.js';

/** Pure placement of blobs into volumes; the writer does the I/O. */

export const TAR_BLOCK = 512;
/** A tar entry's cost: one header block plus the data padded to whole blocks. */
export function entryCost(size: number): number {
  return TAR_BLOCK + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
}

export interface PlanItem {
  /** The blob this item is, or is a piece of. */
  blob: Digest;
  /** Index of the chunk within the blob, or undefined for a whole blob. */
  chunk?: number;
  size: number;
}

/** Chunk sizes (not digests: those need the bytes) for a blob cut into `chunkSize` pieces. */
export function chunkSizes(size: number, chunkSize: number): number[] {
  const out: number[] = [];
  for (let off = 0; off < size; off += chunkSize) out.push(Math.min(chunkSize, size - off));
  return out;
}

/**
 * First-fit decreasing bin packing: few volumes, deterministic (ties broken by digest and
 * chunk index). Returns the 1-based volume of each item, in input order.
 */
export function packItems(items: readonly PlanItem[], capacity: number): { volumes: number[]; count: number } {
  const order = items
    .map((it, i) => ({ it, i, cost: entryCost(it.size) }))
    .sort((a, b) => b.cost - a.cost || (a.it.blob < b.it.blob ? -1 : a.it.blob > b.it.blob ? 1 : (a.it.chunk ?? -1) - (b.it.chunk ?? -1)));
  const free: number[] = [];
  const volumes = new Array<number>(items.length);
  for (const { it, i, cost } of order) {
    if (cost > capacity) {
      throw new AirlockError('INTERNAL', `blob ${it.blob} (${it.size} bytes) does not fit a volume of ${capacity} bytes`);
    }
    let v = free.findIndex((f) => f >= cost);
    if (v < 0) {
      free.push(capacity);
      v = free.length - 1;
    }
    free[v]! -= cost;
    volumes[i] = v + 1;
  }
  return { volumes, count: Math.max(free.length, 1) };
}

/** The largest chunk that fits a volume whose payload room is `capacity`: whole tar blocks. */
export function chunkSizeFor(capacity: number): number {
  return Math.floor((capacity - TAR_BLOCK) / TAR_BLOCK) * TAR_BLOCK;
}
