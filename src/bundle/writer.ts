import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import type { ArtifactRecord } from '../core/artifact.js';
import type { BlobStore } from '../core/blobstore.js';
import { type Digest, HashingStream } from '../core/digest.js';
import { AirlockError } from '../core/errors.js';
import { fsyncDir, fsyncFile, prepareOutput, removeOnInterrupt, tempPathFor, writeError } from '../core/fsutil.js';
import type { Progress, Reporter } from '../core/report.js';
import type { Target } from '../manifest/target.js';
import {
  type BlobPlacement,
  type BundleManifest,
  FORMAT_VERSION,
  MANIFEST_MEDIA_TYPE,
  OCI_LAYOUT,
  blobEntryName,
  manifestDigest,
  serializeManifest,
  type VolumeEntry,
  volumeContents,
  volumeFileName,
} from './format.js';
import { type ImageRef, imageRefs, volumeIndex } from './layout.js';
import { TAR_BLOCK, chunkSizeFor, chunkSizes, entryCost, packItems } from './plan.js';
import { type TarWriter, createTarWriter } from '../core/tar.js';

export interface BundleHeader {
  name: string;
  sequence: number;
  creator: string;
  target: Target;
  lockDigest: Digest;
}

export interface WriteBundleOptions {
  blobs: BlobStore;
  header: BundleHeader;
  artifacts: readonly ArtifactRecord[];
  /** Output path `NAME.airlock`; sets of more than one volume derive their names from it. */
  out: string;
  /** Largest volume in bytes; undefined writes one file. */
  split?: number;
  /** Write only this volume of the set (re-making a lost one). */
  onlyVolume?: number;
  reporter: Reporter;
}

export interface WrittenBundle {
  bundleId: Digest;
  manifest: BundleManifest;
  files: string[];
}

/** Room the layout's own entries take in every volume, given the manifest's length. */
function metadataCost(manifestLength: number, volumes: number, images: readonly ImageRef[]): number {
  const indexLength = volumeIndex({ digest: `sha256:${'0'.repeat(64)}`, size: manifestLength }, volumes, volumes, images).length;
  return entryCost(OCI_LAYOUT.length) + entryCost(indexLength) + 2 * TAR_BLOCK + entryCost(manifestLength) + 2 * TAR_BLOCK;
}

function distinctBlobs(artifacts: readonly ArtifactRecord[]): { digest: Digest; size: number }[] {
  const sizes = new Map<Digest, number>();
  for (const a of artifacts) for (const b of a.blobs) sizes.set(b.digest, b.size);
  return [...sizes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([digest, size]) => ({ digest, size }));
}

function manifestFor(h: BundleHeader, artifacts: readonly ArtifactRecord[], volumes: number, blobs: BlobPlacement[]): BundleManifest {
  return {
    mediaType: MANIFEST_MEDIA_TYPE,
    formatVersion: FORMAT_VERSION,
    name: h.name,
    sequence: h.sequence,
    creator: h.creator,
    target: h.target,
    lockDigest: h.lockDigest,
    volumes,
    artifacts: artifacts.map((a) => ({
      ...a,
      blobs: a.blobs.map(({ digest, size, mediaType }) => ({ digest, size, ...(mediaType ? { mediaType } : {}) })),
    })),
    blobs,
  };
}

const PLACEHOLDER: Digest = `sha256:${'f'.repeat(64)}`;

/**
 * Decides volumes and chunking. The manifest sits in every volume, so its length shrinks the
 * room left for blobs, and that room decides the chunking, which changes the manifest: iterate
 * with placeholder digests (same length as real ones) until the chunk counts settle.
 */
async function placeBlobs(
  opts: WriteBundleOptions,
  blobs: { digest: Digest; size: number }[],
): Promise<{ placements: BlobPlacement[]; volumes: number }> {
  const split = opts.split;
  if (split === undefined) return { placements: blobs.map((b) => ({ ...b, volume: 1 })), volumes: 1 };

  let chunkSize = Number.POSITIVE_INFINITY;
  let capacity = 0;
  for (let round = 0; round < 8; round++) {
    const estimate = blobs.map((b) =>
      entryCost(b.size) > capacity && round > 0
        ? { ...b, chunks: chunkSizes(b.size, chunkSize).map((size) => ({ digest: PLACEHOLDER, size, volume: 9999 })) }
        : { ...b, volume: 9999 },
    );
    const manifestLength = serializeManifest(manifestFor(opts.header, opts.artifacts, 9999, estimate)).length;
    const nextCapacity = split - metadataCost(manifestLength, 9999, imageRefs(opts.artifacts));
    if (nextCapacity < 4 * TAR_BLOCK) {
      throw new AirlockError(
        'USAGE',
        `--split ${split}: too small; every volume needs ${split - nextCapacity} bytes for the bundle's metadata alone`,
      );
    }
    if (nextCapacity === capacity) break;
    capacity = nextCapacity;
    chunkSize = chunkSizeFor(capacity);
  }

  const placements: BlobPlacement[] = [];
  const items: { blob: Digest; chunk?: number; size: number }[] = [];
  for (const b of blobs) {
    if (entryCost(b.size) <= capacity) {
      placements.push({ ...b });
      items.push({ blob: b.digest, size: b.size });
      continue;
    }
    const chunks = await hashChunks(opts.blobs, b, chunkSize, opts.reporter);
    placements.push({ ...b, chunks });
    chunks.forEach((c, i) => items.push({ blob: b.digest, chunk: i, size: c.size }));
  }
  const packed = packItems(items, capacity);
  const byDigest = new Map(placements.map((p) => [p.digest, p]));
  items.forEach((it, i) => {
    const p = byDigest.get(it.blob)!;
    if (it.chunk === undefined) p.volume = packed.volumes[i]!;
    else p.chunks![it.chunk]!.volume = packed.volumes[i]!;
  });
  return { placements, volumes: packed.count };
}

async function hashChunks(
  store: BlobStore,
  blob: { digest: Digest; size: number },
  chunkSize: number,
  reporter: Reporter,
): Promise<{ digest: Digest; size: number; volume: number }[]> {
  const out: { digest: Digest; size: number; volume: number }[] = [];
  let start = 0;
  for (const size of chunkSizes(blob.size, chunkSize)) {
    const h = new HashingStream();
    const src = await store.open(blob.digest, { start, end: start + size - 1 });
    src.pipe(h);
    h.resume();
    await finished(h);
    out.push({ digest: h.digest(), size, volume: 0 });
    start += size;
  }
  reporter.info(`cut ${blob.digest} (${blob.size} bytes) into ${out.length} chunks`);
  return out;
}

/**
 * Writes a bundle: a tar that is an OCI image layout, metadata first, blobs after, fixed
 * headers so the same input always gives the same bytes. Each volume goes to a temp file and
 * is renamed into place only when complete; a run that fails or is interrupted removes the
 * volumes it already wrote, so a set is never left partial and looking complete.
 */
export async function writeBundle(opts: WriteBundleOptions): Promise<WrittenBundle> {
  await prepareOutput(opts.out);
  const { placements, volumes } = await placeBlobs(opts, distinctBlobs(opts.artifacts));
  const manifest = manifestFor(opts.header, opts.artifacts, volumes, placements);
  const manifestBytes = Buffer.from(serializeManifest(manifest));
  const bundleId = manifestDigest(manifestBytes);
  if (opts.onlyVolume !== undefined && (opts.onlyVolume < 1 || opts.onlyVolume > volumes)) {
    throw new AirlockError('USAGE', `--volume ${opts.onlyVolume}: this bundle has ${volumes} volume(s)`);
  }
  if (opts.split !== undefined) checkVolumeSizes(manifest, manifestBytes.length, opts.split);
  const wanted = Array.from({ length: volumes }, (_, i) => i + 1).filter((v) => opts.onlyVolume === undefined || v === opts.onlyVolume);
  // A set of one is just a bundle: it carries exactly the name the user gave.
  const fileOf = (v: number): string => (volumes === 1 ? opts.out : volumeFileName(opts.out, v, volumes));
  for (const v of wanted) if (fileOf(v) !== opts.out) await prepareOutput(fileOf(v));
  const files: string[] = [];
  const unmark: (() => void)[] = [];
  try {
    for (const v of wanted) {
      const file = fileOf(v);
      unmark.push(await writeVolume(opts, manifest, manifestBytes, bundleId, v, file));
      files.push(file);
    }
  } catch (e) {
    for (const f of files) await rm(f, { force: true });
    throw e;
  } finally {
    for (const u of unmark) u();
  }
  return { bundleId, manifest, files };
}

/** Bytes a volume takes on disk: the layout's own entries and every blob or chunk it carries. */
function volumeBytes(manifest: BundleManifest, manifestLength: number, volume: number): number {
  return (
    metadataCost(manifestLength, manifest.volumes, imageRefs(manifest.artifacts)) +
    volumeContents(manifest, volume).reduce((n, e) => n + entryCost(e.size), 0)
  );
}

/** The plan used estimates; the real manifest is known now, so prove every volume fits. */
function checkVolumeSizes(manifest: BundleManifest, manifestLength: number, split: number): void {
  for (let v = 1; v <= manifest.volumes; v++) {
    const size = volumeBytes(manifest, manifestLength, v);
    if (size > split) throw new AirlockError('INTERNAL', `volume ${v} would be ${size} bytes, over --split ${split}`);
  }
}

async function writeVolume(
  opts: WriteBundleOptions,
  manifest: BundleManifest,
  manifestBytes: Buffer,
  bundleId: Digest,
  volume: number,
  file: string,
): Promise<() => void> {
  const contents = volumeContents(manifest, volume);
  const total = contents.reduce((n, c) => n + c.size, 0);
  const progress = opts.reporter.progress(`volume ${volume}/${manifest.volumes}`, total);
  const tmp = tempPathFor(file);
  const unmark = removeOnInterrupt(tmp);
  const out = createWriteStream(tmp, { flags: 'wx', highWaterMark: 1 << 20 });
  // Whatever goes wrong with the output file is about `file`, not the temp name beside it.
  let outputFailed: unknown;
  let unmarkFile: (() => void) | undefined;
  out.on('error', (e) => {
    outputFailed ??= e;
  });
  try {
    const tar = createTarWriter(out);
    await tar.addBuffer('oci-layout', Buffer.from(OCI_LAYOUT));
    await tar.addBuffer(
      'index.json',
      Buffer.from(volumeIndex({ digest: bundleId, size: manifestBytes.length }, volume, manifest.volumes, imageRefs(manifest.artifacts))),
    );
    await tar.addDirectory('blobs/');
    await tar.addDirectory('blobs/sha256/');
    await tar.addBuffer(blobEntryName(bundleId), manifestBytes);
    let done = 0;
    for (const c of contents) {
      await addBlob(opts.blobs, tar, c, progress, done);
      done += c.size;
    }
    await tar.finish();
    await finished(out);
    try {
      await fsyncFile(tmp);
      // Marked before the rename: from that moment an interrupted run must take the volume away again.
      unmarkFile = removeOnInterrupt(file);
      await rename(tmp, file);
    } catch (e) {
      outputFailed ??= e;
      throw e;
    }
    await fsyncDir(dirname(file));
    // Only a volume that is complete gets its "done" line; a failed one ends in the error alone.
    progress.finish();
    return unmarkFile;
  } catch (e) {
    unmarkFile?.();
    out.destroy();
    await rm(tmp, { force: true });
    throw outputFailed === undefined ? e : await writeError(file, outputFailed, volumeBytes(manifest, manifestBytes.length, volume));
  } finally {
    unmark();
  }
}

/** Copies one blob or chunk from the store into the tar, re-hashing it: a corrupt store must not reach a bundle. */
async function addBlob(store: BlobStore, tar: TarWriter, entry: VolumeEntry, progress: Progress, before: number): Promise<void> {
  const range = entry.source === entry.digest ? undefined : { start: entry.start, end: entry.start + entry.size - 1 };
  const src = await store.open(entry.source, range);
  const h = new HashingStream((n) => progress.update(before + n));
  src.on('error', (e) => h.destroy(e));
  src.pipe(h);
  await tar.addStream(blobEntryName(entry.digest), entry.size, h);
  if (h.digest() !== entry.digest) {
    throw new AirlockError('STORE_CORRUPT', `blob ${entry.source} in the store is corrupt (content does not hash to ${entry.digest})`, {
      hint: 'run airlock verify, then fetch again',
    });
  }
}
