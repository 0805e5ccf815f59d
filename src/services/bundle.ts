import { readFile, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { type Digest, digestOf } from '../core/digest.js';
import { AirlockError } from '../core/errors.js';
import { fsyncDir, ioReason, isSystemError, openInputFile } from '../core/fsutil.js';
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

/**
 * The connected side numbers its bundles per creator, so the closed side can tell a replay
 * from a new bundle. The same lock keeps its number: bundling it again (or re-making a lost
 * volume) gives the same bytes. The numbers live in the metadata store, given in one
 * transaction, so two bundle runs never share one.
 */
async function sequenceFor(store: Store, creator: string, lockKey: string): Promise<number> {
  await adoptSequencesFile(store);
  return store.meta.transaction((tx) => tx.sequenceFor(creator, lockKey));
}

const sequencesFile = z.record(
  z.string(),
  z.object({ last: z.number().int().nonnegative(), byLock: z.record(z.string(), z.number().int().positive()) }),
);

/**
 * A store from before kept the numbers in sequences.json: they are moved in once, and the
 * file renamed aside after the commit (a run killed in between moves them again, which
 * changes nothing). A file that cannot be read stops the run: numbering again from 1 would
 * make the closed side refuse the next bundles as replays.
 */
async function adoptSequencesFile(store: Store): Promise<void> {
  const path = join(store.home, 'sequences.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (isSystemError(e) && e.code === 'ENOENT') return;
    throw new AirlockError('IO_ERROR', `${path}: cannot read the bundle sequence numbers (${ioReason(e)})`);
  }
  let all: z.infer<typeof sequencesFile>;
  try {
    const r = sequencesFile.safeParse(JSON.parse(text));
    if (!r.success) throw new Error(`${r.error.issues[0]!.path.join('.')}: ${r.error.issues[0]!.message}`);
    all = r.data;
  } catch (e) {
    throw new AirlockError('STORE_CORRUPT', `${path}: not the bundle sequence numbers this store gave (${(e as Error).message})`, {
      hint: 'restore the file from a backup, or move it away and give the next bundle its number with --sequence',
    });
  }
  await store.meta.transaction(async (tx) => {
    for (const [creator, s] of Object.entries(all)) await tx.adoptSequences(creator, s.last, s.byLock);
  });
  try {
    await rename(path, `${path}.migrated`);
  } catch (e) {
    // Another bundle run moved it first.
    if (!(isSystemError(e) && e.code === 'ENOENT')) throw e;
  }
  await fsyncDir(dirname(path));
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
