import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type Digest, digestOf } from '../core/digest.js';
import { openInputFile, writeFileAtomic } from '../core/fsutil.js';
import type { Reporter } from '../core/report.js';
import type { Store } from '../core/store.js';
import { type BundleManifest, volumeContents } from '../bundle/format.js';
import { type BlobSink, type VolumeInfo, readVolume } from '../bundle/reader.js';
import type { ArtifactRecord } from '../core/artifact.js';
import { ECOSYSTEMS } from '../ecosystems/registry.js';
import { type WrittenBundle, writeBundle } from '../bundle/writer.js';
import { type Lockfile, serializeLock } from '../manifest/lockfile.js';
import { recordsOf } from './fetch.js';

export interface CreateBundleOptions {
  out: string;
  split?: number;
  onlyVolume?: number;
  /** Default: the number this store gave the same lock before, else the next one for this creator. */
  sequence?: number;
  creator: string;
  reporter: Reporter;
}

/** Writes the bundle for a lock whose blobs are all in the store (the caller fetched them). */
export async function createBundle(store: Store, lock: Lockfile, opts: CreateBundleOptions): Promise<WrittenBundle> {
  const artifacts = recordsOf(lock);
  const lockDigest = digestOf(serializeLock(lock));
  return writeBundle({
    blobs: store.blobs,
    header: {
      name: lock.name,
      sequence: opts.sequence ?? (await sequenceFor(store, opts.creator, `${lock.name} ${lockDigest}`)),
      creator: opts.creator,
      target: lock.target,
      lockDigest,
    },
    artifacts,
    out: opts.out,
    ...(opts.split !== undefined ? { split: opts.split } : {}),
    ...(opts.onlyVolume !== undefined ? { onlyVolume: opts.onlyVolume } : {}),
    reporter: opts.reporter,
  });
}

interface Sequences {
  [creator: string]: { last: number; byLock: Record<string, number> };
}

/**
 * The connected side numbers its bundles per creator, so the closed side can tell a replay
 * from a new bundle. The same lock keeps its number: bundling it again (or re-making a lost
 * volume) gives the same bytes.
 */
async function sequenceFor(store: Store, creator: string, lockKey: string): Promise<number> {
  const path = join(store.home, 'sequences.json');
  const all = JSON.parse(await readFile(path, 'utf8').catch(() => '{}')) as Sequences;
  const mine = (all[creator] ??= { last: 0, byLock: {} });
  const known = mine.byLock[lockKey];
  if (known !== undefined) return known;
  mine.last += 1;
  mine.byLock[lockKey] = mine.last;
  await writeFileAtomic(path, `${JSON.stringify(all, null, 2)}\n`);
  return mine.last;
}

/** An artifact checked by its own ecosystem's rules; one no ecosystem here knows has none to break. */
function checkArtifact(a: ArtifactRecord): string | undefined {
  return ECOSYSTEMS.find((e) => e.id === a.ecosystem)?.checkArtifact?.(a);
}

/**
 * How every service reads a volume file: inspect, verify and import run the same checks, so
 * `bundle verify` refuses whatever import would refuse for the bundle's own sake.
 */
export async function readBundleVolume(file: string, sink: BlobSink): Promise<VolumeInfo & { skipped: boolean }> {
  return readVolume(await openInputFile(file), basename(file), sink, { checkArtifact });
}

/** Reads only a volume's metadata entries, with the whole manifest as objects: what `bundle inspect` shows. */
export async function readBundleHeader(file: string): Promise<VolumeInfo & { manifest: BundleManifest }> {
  const sink: BlobSink = { start: async () => false, open: async () => undefined };
  const info = await readBundleVolume(file, sink);
  return { ...info, manifest: info.entries.whole() };
}

export interface VolumeSummary {
  volume: number;
  blobs: number;
  bytes: number;
}

export function summarizeVolumes(m: BundleManifest): VolumeSummary[] {
  return Array.from({ length: m.volumes }, (_, i) => {
    const c = volumeContents(m, i + 1);
    return { volume: i + 1, blobs: c.length, bytes: c.reduce((n, e) => n + e.size, 0) };
  });
}

export interface VerifiedBundle {
  bundleId: Digest;
  name: string;
  volumes: number;
  verified: number[];
  missing: number[];
}

/** Verify keeps nothing: the reader hashes every blob it is given no target for. */
const discardingSink: BlobSink = { start: async () => true, open: async () => undefined };

/**
 * Checks the structure and every digest of the given volume files without any store. Whole
 * blobs cut into chunks are checked chunk by chunk here; import checks them whole as well.
 */
export async function verifyBundles(files: readonly string[], reporter: Reporter): Promise<VerifiedBundle[]> {
  const byId = new Map<Digest, VerifiedBundle>();
  for (const file of files) {
    const info = await readBundleVolume(file, discardingSink);
    const b = byId.get(info.bundleId) ?? {
      bundleId: info.bundleId,
      name: info.manifest.name,
      volumes: info.manifest.volumes,
      verified: [],
      missing: [],
    };
    if (!b.verified.includes(info.volume)) b.verified.push(info.volume);
    byId.set(info.bundleId, b);
    reporter.info(`${basename(file)}: volume ${info.volume}/${info.manifest.volumes} of ${info.manifest.name} is intact`);
  }
  for (const b of byId.values()) {
    b.verified.sort((x, y) => x - y);
    b.missing = Array.from({ length: b.volumes }, (_, i) => i + 1).filter((v) => !b.verified.includes(v));
  }
  return [...byId.values()];
}
