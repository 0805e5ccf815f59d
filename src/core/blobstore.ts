import type { Readable } from 'node:stream';
import type { Digest } from './digest.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/**
 * Content-addressed blob storage. The filesystem is the embedded default; an object-store
 * backend implements the same interface in a new file. Every blob is named by its sha256
 * and is never visible before it is whole and verified.
 */
export interface BlobStore {
  stat(digest: Digest): Promise<BlobInfo | undefined>;
  /** Throws NOT_FOUND when absent. */
  open(digest: Digest, range?: ByteRange): Promise<Readable>;
  /**
   * Optional, for large downloads: feeds the bytes to `write` through a couple of reused
   * buffers, so a chunk's memory is refilled once the promise `write` returned for it
   * settles (a socket write's callback). A fresh buffer per chunk, as a stream allocates,
   * costs more CPU than the copy itself. Throws NOT_FOUND before the first write.
   */
  pump?(digest: Digest, range: ByteRange | undefined, write: (chunk: Buffer) => Promise<void>): Promise<void>;
  /**
   * Streams `source` in, hashing as it goes; the blob appears only if the digest (and size,
   * when given) match `expected`. `label` names the artifact in error messages.
   */
  put(source: Readable, label: string, expected?: { digest?: Digest; size?: number }): Promise<BlobInfo>;
  /**
   * Moves a local file whose digest the caller has already verified into the store. The file
   * must live under `tempDir()` so the move is a rename. Idempotent when the blob exists.
   */
  adopt(file: string, blob: BlobInfo): Promise<void>;
  /** A scratch directory on the same device as the blobs, for files later adopted. */
  tempDir(): Promise<string>;
  delete(digest: Digest): Promise<void>;
  list(): AsyncIterable<Digest>;
}

/** A small blob (or a range of one) whole in memory: manifests, metadata, a zip's directory. */
export async function readBlobBytes(blobs: BlobStore, digest: Digest, range?: ByteRange): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of await blobs.open(digest, range)) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
