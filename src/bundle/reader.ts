import { createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ArtifactRecord } from '../core/artifact.js';
import { type Digest, digestOf } from '../core/digest.js';
import { AirlockError } from '../core/errors.js';
import {
  type ManifestEntries,
  type ManifestHead,
  OCI_LAYOUT,
  VOLUME_ANNOTATION,
  type VolumeEntry,
  blobEntryName,
  checkManifest,
  manifestDigest,
  volumeEntries,
} from './format.js';
import { imageRefs, volumeIndex, volumeIndexHead } from './layout.js';
import { type TarEntry, readTar, tarHeader } from '../core/tar.js';

/** What the first entries of a volume say, before any blob is read. */
export interface VolumeInfo {
  bundleId: Digest;
  manifest: ManifestHead;
  /** The artifacts and placements, parsed again on each walk, and the manifest's bytes. */
  entries: ManifestEntries;
  volume: number;
}

export interface BlobTarget {
  stream: Writable;
  /** Called once the bytes are verified. */
  commit(): Promise<void>;
  /** Called when the bytes are wrong or reading failed. */
  abort(): Promise<void>;
}

/** Where the verified bytes of a volume go: a staging area on import, nowhere on verify. */
export interface BlobSink {
  /**
   * Sees the bundle id index.json names before a byte of the manifest is read: what needs
   * only the id (custody) is judged before an unsigned manifest costs any parsing.
   */
  admit?(bundleId: Digest): Promise<void>;
  /** Sees the manifest first; returning false skips the rest of the volume. */
  start(info: VolumeInfo): Promise<boolean>;
  /** A target for this blob's bytes, or undefined when the sink already holds it verified. */
  open(entry: VolumeEntry): Promise<BlobTarget | undefined>;
}

export interface ReadOptions {
  /** The ecosystems' own rules for an artifact (bundle/ knows none); what it returns refuses the volume. */
  checkArtifact?(a: ArtifactRecord): string | undefined;
}

/** The largest bundle manifest a reader takes in (docs/bundle-format.md, Limits). */
export const MAX_MANIFEST_BYTES = 64 << 20;
/**
 * index.json beyond the manifest's descriptor lists the images, each shorter than its own
 * artifact's record in the manifest: it can never need more room than this plus the manifest.
 */
const INDEX_ALLOWANCE = 4096;
/** Enough of index.json to hold the manifest's descriptor, which the writer puts first. */
const INDEX_HEAD = 1024;
const BLOB_NAME = /^blobs\/sha256\/([0-9a-f]{64})$/;
const DESCRIPTOR = /"digest":"(sha256:[0-9a-f]{64})","size":(\d{1,15}),/;
const VOLUME = new RegExp(`"${VOLUME_ANNOTATION.replace(/\./g, '\\.')}":"(\\d{1,4})/(\\d{1,4})"`);

interface IndexFacts {
  manifest: { digest: Digest; size: number };
  volume: number;
  volumes: number;
}

function firstDifference(a: Buffer, b: Buffer): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * Reads one volume of an untrusted bundle as a stream and accepts only the exact bytes the
 * writer makes for its manifest and volume number: every header, every padding byte, the
 * layout's own files and the end of the archive are compared with what the writer's pure
 * functions give, and every blob is hashed on its way to the sink. Nothing reaches the sink's
 * final place unverified, and no byte of the volume goes unchecked.
 */
export async function readVolume(
  input: Readable,
  label: string,
  sink: BlobSink,
  opts: ReadOptions = {},
): Promise<VolumeInfo & { skipped: boolean }> {
  const entries = readTar(input, { label })[Symbol.asyncIterator]();
  try {
    return await readEntries(entries, label, sink, opts);
  } finally {
    await entries.return?.(undefined);
    input.destroy();
  }
}

async function readEntries(
  entries: AsyncIterator<TarEntry>,
  label: string,
  sink: BlobSink,
  opts: ReadOptions,
): Promise<VolumeInfo & { skipped: boolean }> {
  const invalid = (msg: string): AirlockError => new AirlockError('BUNDLE_INVALID', `${label}: ${msg}`);
  const checkHeader = (e: TarEntry): void => {
    const want = tarHeader(e.name, e.size, e.type === 'directory' ? '5' : '0');
    if (!e.header.equals(want))
      throw invalid(`the tar header of ${e.name} is not the one airlock writes (header byte ${firstDifference(e.header, want)} differs)`);
  };
  const expectEntry = async (name: string, what = name): Promise<TarEntry> => {
    const r = await entries.next();
    if (r.done) throw invalid(`archive ends before ${what}`);
    if (r.value.name !== name)
      throw invalid(`expected ${what} as the next entry, found ${r.value.name} (not an airlock bundle, or damaged)`);
    checkHeader(r.value);
    return r.value;
  };

  const layout = await expectEntry('oci-layout');
  if (layout.size !== OCI_LAYOUT.length || !(await readAll(layout)).equals(Buffer.from(OCI_LAYOUT))) {
    throw new AirlockError('BUNDLE_VERSION', `${label}: oci-layout is not ${OCI_LAYOUT} (not a bundle this airlock reads)`);
  }

  const indexEntry = await expectEntry('index.json');
  if (indexEntry.size > INDEX_ALLOWANCE + MAX_MANIFEST_BYTES)
    throw invalid(`index.json is ${indexEntry.size} bytes, more than airlock ever writes`);
  const { facts, digest: indexDigest } = await readIndex(indexEntry, label);

  const dirs = await expectEntry('blobs/');
  if (dirs.type !== 'directory') throw invalid('blobs/ is not a directory');
  const sha = await expectEntry('blobs/sha256/');
  if (sha.type !== 'directory') throw invalid('blobs/sha256/ is not a directory');

  const manifestEntry = await expectEntry(blobEntryName(facts.manifest.digest), 'the bundle manifest');
  if (manifestEntry.size !== facts.manifest.size) {
    throw new AirlockError(
      'SIZE_MISMATCH',
      `${label}: the bundle manifest is ${manifestEntry.size} bytes, index.json says ${facts.manifest.size}`,
    );
  }
  await sink.admit?.(facts.manifest.digest);
  // The raw bytes are never a local of this function: it waits on I/O from here on, and
  // whatever it holds lives as long as it does (the entries keep them deflated).
  const { head: manifest, entries: listed } = checkManifestBytes(await readAll(manifestEntry), facts.manifest.digest, label);
  const bundleId = facts.manifest.digest;
  if (opts.checkArtifact) {
    for (const a of listed.artifacts()) {
      const bad = opts.checkArtifact(a);
      if (bad) throw invalid(`bundle manifest artifact ${a.ecosystem}:${a.key}: ${bad}`);
    }
  }
  if (manifest.volumes !== facts.volumes) {
    throw invalid(`index.json says ${facts.volumes} volumes, the manifest says ${manifest.volumes}`);
  }
  const index = volumeIndex(facts.manifest, facts.volume, manifest.volumes, imageRefs(listed.artifacts()));
  if (Buffer.byteLength(index) !== indexEntry.size || digestOf(index) !== indexDigest) {
    throw invalid(`index.json is not the index airlock writes for this manifest (volume ${facts.volume}/${manifest.volumes})`);
  }

  const info: VolumeInfo = { bundleId, manifest, entries: listed, volume: facts.volume };
  if (!(await sink.start(info))) return { ...info, skipped: true };

  // The volume's entries come from the placements as the tar goes: no list of them is built.
  const contents = volumeEntries(listed.blobs(), facts.volume);
  const about = (e: VolumeEntry): string => `blob ${e.digest} (${ownerOf(listed, e.source)})`;
  for (let next = contents.next(); !next.done; next = contents.next()) {
    const want = next.value;
    const r = await entries.next();
    if (r.done) {
      throw invalid(`${about(want)} is listed for volume ${facts.volume} but missing (${1 + [...contents].length} missing in all)`);
    }
    const e = r.value;
    if (e.name !== blobEntryName(want.digest)) {
      const m = BLOB_NAME.exec(e.name);
      const found = m && `sha256:${m[1]}`;
      if (found && [...contents].some((c) => c.digest === found))
        throw invalid(`entry ${e.name} is out of place: airlock writes ${blobEntryName(want.digest)} first`);
      throw invalid(`entry ${e.name} is not listed for volume ${facts.volume} in the bundle manifest`);
    }
    if (e.size !== want.size) {
      throw new AirlockError('SIZE_MISMATCH', `${label}: ${about(want)} is ${e.size} bytes, the manifest says ${want.size}`);
    }
    checkHeader(e);
    await copyVerified(e, want, sink, () => `${label}: ${about(want)}`);
  }
  // Asking for one more entry is what makes the tar reader check the end-of-archive marker and that nothing follows it.
  const extra = await entries.next();
  if (!extra.done) throw invalid(`entry ${extra.value.name} is not listed for volume ${facts.volume} in the bundle manifest`);
  return { ...info, skipped: false };
}

function checkManifestBytes(bytes: Buffer, digest: Digest, label: string): ReturnType<typeof checkManifest> {
  const got = manifestDigest(bytes);
  if (got !== digest)
    throw new AirlockError(
      'DIGEST_MISMATCH',
      `${label}: the bundle manifest is corrupt: index.json names ${digest}, content hashes to ${got}`,
    );
  return checkManifest(bytes, label);
}

/** One buffer of the entry's size, filled in place: no list of chunks and no second copy beside it. */
async function readAll(e: TarEntry): Promise<Buffer> {
  const out = Buffer.allocUnsafe(e.size);
  let at = 0;
  for await (const c of e.chunks) at += c.copy(out, at);
  return out;
}

/**
 * index.json comes before the manifest that decides its exact bytes, so it is not parsed:
 * its head must be the writer's own for the descriptor found there, and the rest is hashed
 * to be compared once the manifest is known. Memory stays at INDEX_HEAD whatever its size.
 */
async function readIndex(e: TarEntry, label: string): Promise<{ facts: IndexFacts; digest: Digest }> {
  const hash = createHash('sha256');
  let head = Buffer.alloc(0);
  let facts: IndexFacts | undefined;
  const want = Math.min(e.size, INDEX_HEAD);
  for await (const chunk of e.chunks) {
    hash.update(chunk);
    if (facts) continue;
    head = Buffer.concat([head, chunk.subarray(0, want - head.length)]);
    if (head.length < want) continue;
    facts = indexFacts(head, label);
    if (e.size > INDEX_ALLOWANCE + facts.manifest.size) {
      throw new AirlockError(
        'BUNDLE_INVALID',
        `${label}: index.json is ${e.size} bytes, more than airlock writes beside a ${facts.manifest.size}-byte manifest`,
      );
    }
  }
  return { facts: facts ?? indexFacts(head, label), digest: `sha256:${hash.digest('hex')}` };
}

function indexFacts(head: Buffer, label: string): IndexFacts {
  const text = head.toString('latin1');
  const d = DESCRIPTOR.exec(text);
  const v = VOLUME.exec(text);
  if (d && v) {
    const facts = { manifest: { digest: d[1] as Digest, size: Number(d[2]) }, volume: Number(v[1]), volumes: Number(v[2]) };
    const expected = volumeIndexHead(facts.manifest, facts.volume, facts.volumes);
    if (text.startsWith(expected)) {
      if (facts.volume < 1 || facts.volume > facts.volumes)
        throw new AirlockError('BUNDLE_INVALID', `${label}: index.json says volume ${facts.volume} of ${facts.volumes}`);
      if (facts.manifest.size > MAX_MANIFEST_BYTES) {
        throw new AirlockError(
          'BUNDLE_INVALID',
          `${label}: the bundle manifest is ${facts.manifest.size} bytes, over the ${MAX_MANIFEST_BYTES}-byte limit`,
        );
      }
      return facts;
    }
  }
  throw new AirlockError('BUNDLE_INVALID', `${label}: index.json is not the index airlock writes (not an airlock bundle, or damaged)`);
}

async function copyVerified(e: TarEntry, want: VolumeEntry, sink: BlobSink, what: () => string): Promise<void> {
  const target = await sink.open(want);
  // Bytes the sink already holds are hashed all the same: this volume's copy must be intact too.
  // A plain loop rather than a pipeline: a volume of many small blobs would otherwise leave
  // several stream objects of garbage per blob, and the heap grows with them.
  const hash = createHash('sha256');
  try {
    for await (const chunk of e.chunks) {
      hash.update(chunk);
      if (target && !target.stream.write(chunk)) await drained(target.stream);
    }
    if (target) {
      target.stream.end();
      await finished(target.stream);
    }
  } catch (err) {
    await target?.abort();
    throw err;
  }
  const got: Digest = `sha256:${hash.digest('hex')}`;
  if (got !== want.digest) {
    await target?.abort();
    throw new AirlockError('DIGEST_MISMATCH', `${what()} is corrupt: expected ${want.digest}, got ${got}`);
  }
  await target?.commit();
}

/** Resolves on 'drain', rejects if the stream fails first (a full disk never drains). */
function drained(w: Writable): Promise<void> {
  if (w.errored) return Promise.reject(w.errored);
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      w.off('drain', done).off('error', done);
      if (err) reject(err);
      else resolve();
    };
    w.on('drain', done).on('error', done);
  });
}

/** For messages only: the first artifact that needs a blob. */
function ownerOf(listed: ManifestEntries, blob: Digest): string {
  for (const a of listed.artifacts()) if (a.blobs.some((b) => b.digest === blob)) return `${a.ecosystem}:${a.key}`;
  return 'unknown artifact';
}
