import type { Readable, Writable } from 'node:stream';
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

/** Bytes being written into a staging area; they count as staged only once `commit` resolves. */
export interface StagedWrite {
  stream: Writable;
  /** The bytes are whole and verified: their data is on disk and they take their name. */
  commit(): Promise<void>;
  /** The bytes are wrong or reading failed: nothing of them stays. */
  abort(): Promise<void>;
}

/**
 * Where verified blobs of one incoming set (a bundle's volumes) wait until the set is whole,
 * content-addressed like the store so parts can arrive in any order and over several runs.
 * A staged blob survives a power cut only after `durable()`: record nothing that relies on
 * the staged blobs before it resolves. A handle knows what was staged when it was opened and
 * what it changed since; the store's write lock keeps a second writer out meanwhile.
 */
export interface StagingArea {
  has(digest: Digest): Promise<boolean>;
  /** A write of `digest` that replaces nothing until committed. */
  open(digest: Digest): Promise<StagedWrite>;
  /** Reads a staged blob (chunks of a blob too large for one volume, to rebuild it). */
  read(digest: Digest): Readable;
  remove(digest: Digest): Promise<void>;
  /** Whether no blob is staged in the area. */
  empty(): Promise<boolean>;
  /** Makes every blob committed so far survive a power cut (their data and their names). */
  durable(): Promise<void>;
  /**
   * Moves staged blobs into the store as one batch, durable when it resolves: blobs the store
   * already holds are fine whether staged or not. Returns the digests that are neither staged
   * nor in the store. `adopted` runs after each blob moves.
   */
  adopt(blobs: Iterable<BlobInfo>, adopted?: () => void): Promise<Digest[]>;
  /** Removes temp files that dead processes left in the area. */
  sweep(): Promise<void>;
  /** Drops the area and everything in it. */
  discard(): Promise<void>;
}

/**
 * Blob uploads that arrive over several requests (OCI upload sessions), each named by an id
 * the caller makes: the server holds no state of its own, an upload's length is what the
 * area holds, and any replica sharing the store can continue it. Nothing in an upload is a
 * blob until `commit`.
 */
export interface UploadArea {
  /** The bytes received so far, or undefined when there is no such upload. */
  size(id: string): Promise<number | undefined>;
  /** Appends `source` to the upload, starting it when there is none yet. */
  append(id: string, source: Readable): Promise<void>;
  /** What was received, for the caller to hash before `commit`. */
  read(id: string): Readable;
  /** Moves the upload, whose digest the caller has checked, into the store as `blob`; the upload is gone after. */
  commit(id: string, blob: BlobInfo): Promise<void>;
  discard(id: string): Promise<void>;
  /** Discards the uploads nothing has written to for `idleMs`. */
  sweep(idleMs: number): Promise<void>;
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
  /** The staging area named `area` (a bundle's hex id), created on first use. */
  staging(area: string): Promise<StagingArea>;
  /** The names of the staging areas that exist. */
  stagingAreas(): Promise<string[]>;
  /** The upload area named `name` (an ecosystem's id), created on first use. */
  uploads(name: string): Promise<UploadArea>;
}

/** A small blob (or a range of one) whole in memory: manifests, metadata, a zip's directory. */
export async function readBlobBytes(blobs: BlobStore, digest: Digest, range?: ByteRange): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of await blobs.open(digest, range)) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
