import { deflateRawSync, inflateRawSync } from 'node:zlib';

const BLOCK = 1 << 20;
const EMPTY = Buffer.alloc(0);

/**
 * Bytes kept deflated in independent 1 MiB blocks, read back by offset. A checked bundle
 * manifest is held for the whole of a verify or import, beside the volume's blobs streaming
 * through: deflated it takes a fifth of its size or less (it is indented JSON of digests and
 * names), and walks over its entries go forward, so each block is inflated once per walk.
 */
export class PackedBytes {
  private readonly blocks: Buffer[] = [];
  readonly length: number;

  constructor(bytes: Uint8Array) {
    // Level 1: a manifest deflates nearly as well as at the default, in a third of the time.
    for (let at = 0; at < bytes.length; at += BLOCK) this.blocks.push(deflateRawSync(bytes.subarray(at, at + BLOCK), { level: 1 }));
    this.length = bytes.length;
  }

  /** What the blocks take in memory. */
  get packedLength(): number {
    return this.blocks.reduce((n, b) => n + b.length, 0);
  }

  /** The bytes in order, one inflated block at a time. */
  *chunks(): Generator<Buffer> {
    for (const b of this.blocks) yield inflateRawSync(b);
  }

  /**
   * A reader of byte ranges with its own inflated block, so two walks at once do not inflate
   * each other's blocks over and over. What it returns is valid until its next call.
   */
  reader(): (start: number, end: number) => Buffer {
    let cached = -1;
    let block = EMPTY;
    const blockAt = (i: number): Buffer => {
      if (i !== cached) {
        block = inflateRawSync(this.blocks[i]!);
        cached = i;
      }
      return block;
    };
    return (start, end) => {
      if (start < 0 || end > this.length || end < start) throw new RangeError(`bytes ${start}-${end} of ${this.length}`);
      if (end === start) return EMPTY;
      const first = Math.floor(start / BLOCK);
      const last = Math.floor((end - 1) / BLOCK);
      if (first === last) return blockAt(first).subarray(start - first * BLOCK, end - first * BLOCK);
      const out = Buffer.allocUnsafe(end - start);
      let at = 0;
      for (let i = first; i <= last; i++) {
        const b = blockAt(i);
        at += b.copy(out, at, i === first ? start - i * BLOCK : 0, i === last ? end - i * BLOCK : b.length);
      }
      return out;
    };
  }
}
