import type { Digest } from '../core/digest.js';

/**
 * A set of sha256 digests, each with a number, held in typed arrays: 40 bytes and no object per
 * entry. A reader checking a manifest of tens of thousands of blobs would otherwise keep that
 * many strings alive through every collection, and the garbage collector sizes its heap by
 * what survives.
 */
export class DigestTable {
  private digests: Uint8Array;
  private values: Float64Array;
  /** Slot → entry index + 1; 0 is empty. Open addressing, linear probing. */
  private slots: Int32Array;
  private count = 0;

  constructor(expected = 16) {
    const capacity = Math.max(16, expected);
    this.digests = new Uint8Array(capacity * 32);
    this.values = new Float64Array(capacity);
    this.slots = new Int32Array(slotsFor(capacity));
  }

  /** The number stored with `d`, or undefined. */
  get(d: Digest): number | undefined {
    const i = this.find(hexBytes(d));
    return i < 0 ? undefined : this.values[i];
  }

  /** Adds `d` with `value` unless present; returns whether it was added. */
  add(d: Digest, value = 0): boolean {
    return this.addBytes(hexBytes(d), value);
  }

  /** As add, for a digest given as its 32 bytes (a sha256 of anything). */
  addBytes(key: Uint8Array, value = 0): boolean {
    if (this.find(key) >= 0) return false;
    if (this.count === this.values.length) this.grow();
    this.digests.set(key, this.count * 32);
    this.values[this.count] = value;
    this.count++;
    this.place(this.count - 1);
    return true;
  }

  private find(key: Uint8Array): number {
    const mask = this.slots.length - 1;
    for (let s = hashOf(key) & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s]! - 1;
      if (e < 0) return -1;
      if (equalAt(this.digests, e * 32, key)) return e;
    }
  }

  private place(e: number): void {
    const mask = this.slots.length - 1;
    let s = hashOf(this.digests.subarray(e * 32, e * 32 + 32)) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = e + 1;
  }

  private grow(): void {
    const capacity = this.values.length * 2;
    const digests = new Uint8Array(capacity * 32);
    digests.set(this.digests);
    const values = new Float64Array(capacity);
    values.set(this.values);
    this.digests = digests;
    this.values = values;
    this.slots = new Int32Array(slotsFor(capacity));
    for (let e = 0; e < this.count; e++) this.place(e);
  }
}

/** At least twice the entries, a power of two: probes stay short. */
function slotsFor(capacity: number): number {
  let n = 1;
  while (n < capacity * 2) n *= 2;
  return n;
}

/** A digest's own bytes are uniformly spread: the first four make the hash. */
function hashOf(key: Uint8Array): number {
  return (key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24)) >>> 0;
}

function equalAt(all: Uint8Array, at: number, key: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (all[at + i] !== key[i]) return false;
  return true;
}

const scratch = Buffer.alloc(32);

/** The 32 bytes of `sha256:<64 hex>`, in a shared buffer valid until the next call. */
function hexBytes(d: Digest): Uint8Array {
  scratch.write(d.slice(7), 'hex');
  return scratch;
}
