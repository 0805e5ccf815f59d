import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AirlockError } from './errors.js';

/** A content digest in OCI form: `sha256:<64 lowercase hex>`. */
export type Digest = `sha256:${string}`;

const HEX64 = /^[0-9a-f]{64}$/;

export function isHex64(s: string): boolean {
  return HEX64.test(s);
}

export function isDigest(s: unknown): s is Digest {
  return typeof s === 'string' && s.startsWith('sha256:') && HEX64.test(s.slice(7));
}

/**
 * A sha512 content digest, `sha512:<128 lowercase hex>`: the other algorithm the OCI specs
 * register. Blobs are still stored under their sha256; a sha512 is only ever another name.
 */
export type Sha512Digest = `sha512:${string}`;

const HEX128 = /^[0-9a-f]{128}$/;

export function isSha512Digest(s: unknown): s is Sha512Digest {
  return typeof s === 'string' && s.startsWith('sha512:') && HEX128.test(s.slice(7));
}

/** Parses `sha256:<hex>` or bare hex; throws a CONFIG_INVALID error naming `what` otherwise. */
export function parseDigest(s: string, what: string): Digest {
  const v = s.trim().toLowerCase();
  if (isDigest(v)) return v;
  if (HEX64.test(v)) return `sha256:${v}`;
  throw new AirlockError('CONFIG_INVALID', `${what}: "${s}" is not a sha256 digest (64 hex characters)`);
}

export function hexOf(d: Digest): string {
  return d.slice(7);
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function digestOf(data: string | Uint8Array): Digest {
  return `sha256:${sha256Hex(data)}`;
}

/** A pass-through stream that hashes and counts what flows through it. */
export class HashingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  size = 0;

  /** `onBytes` sees the running byte count, for progress displays. */
  constructor(private readonly onBytes?: (size: number) => void) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.onBytes?.(this.size);
    cb(null, chunk);
  }

  private result: Digest | undefined;

  /** Valid once the stream has ended; may be asked for more than once. */
  digest(): Digest {
    this.result ??= `sha256:${this.hash.digest('hex')}`;
    return this.result;
  }
}
