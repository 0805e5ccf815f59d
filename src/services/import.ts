import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type ArtifactRecord, artifactLabel } from '../core/artifact.js';
import { type Digest, HashingStream, hexOf } from '../core/digest.js';
import { AirlockError, describeError, isAirlockError } from '../core/errors.js';
import { crashPoint } from '../core/faults.js';
import { freeSpace, fsyncDir, fsyncFile, ioReason, isSystemError, removeDeadTemps, tempPathFor } from '../core/fsutil.js';
import type { AuditEvent, AuditRow, CommitResult, ImportRecord, MetadataReader, MetadataTransaction } from '../core/metadata.js';
import type { Reporter } from '../core/report.js';
import type { Store } from '../core/store.js';
import { localActor } from '../audit/log.js';
import { type GateOptions, checkCustody, checkSequence } from '../custody/gate.js';
import type { BlobSink, BlobTarget, VolumeInfo } from '../bundle/reader.js';
import { readBundleVolume } from './bundle.js';

export type VolumeOutcome = 'imported' | 'staged' | 'unchanged';

export interface VolumeResult {
  file: string;
  bundleId: Digest;
  name: string;
  volume: number;
  volumes: number;
  outcome: VolumeOutcome;
  /** Volumes of the bundle not yet received, when staged. */
  missing: number[];
  added: number;
  existing: number;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Stages one volume's blobs under `staging/<bundle>/<hex>`, content-addressed like the store,
 * so volumes can arrive in any order and a killed run can pick up what it already verified.
 * Files it added are removed again if the volume turns out bad.
 */
class StagingSink implements BlobSink {
  info: VolumeInfo | undefined;
  skipReason: 'imported' | 'received' | undefined;
  private dir = '';
  readonly added: string[] = [];
  /** The first failure writing into staging: a full or read-only store, not a bad bundle. */
  writeFailed: unknown;
  /** A custody override, audited in the transaction that records what became of this volume. */
  override: AuditEvent | undefined;

  constructor(
    private readonly store: Store,
    private readonly file: string,
    private readonly opts: ImportOptions,
    private readonly reporter: Reporter,
  ) {}

  async admit(bundleId: Digest): Promise<void> {
    const row = await this.store.meta.getBundle(bundleId);
    if (row?.status === 'imported') {
      this.skipReason = 'imported';
      return;
    }
    // Custody is judged on the id alone, before the (unsigned until proven otherwise) manifest is parsed.
    const custody = await checkCustody(this.store, this.file, bundleId, this.opts);
    this.override = custody.override;
    if (custody.warn) this.reporter.warn(custody.message);
    else this.reporter.info(custody.message);
  }

  async start(info: VolumeInfo): Promise<boolean> {
    this.info = info;
    if (this.skipReason === 'imported') return false;
    // Replay is judged on the manifest, before a byte of content is read.
    const sequence = await checkSequence(this.store, info.bundleId, info.manifest);
    if (sequence) this.reporter.info(sequence);
    if ((await this.store.meta.receivedVolumes(info.bundleId)).includes(info.volume)) {
      this.skipReason = 'received';
      return false;
    }
    await refuseConflicts(this.store.meta, info.entries.artifacts());
    this.dir = this.store.stagingDir(hexOf(info.bundleId));
    await mkdir(this.dir, { recursive: true });
    return true;
  }

  async open(entry: { digest: Digest }): Promise<BlobTarget | undefined> {
    const final = join(this.dir, hexOf(entry.digest));
    if (await exists(final)) return undefined;
    const tmp = tempPathFor(final);
    const stream = createWriteStream(tmp, { flags: 'wx', highWaterMark: 1 << 20 });
    stream.on('error', (e) => {
      this.writeFailed ??= e;
    });
    return {
      stream,
      commit: async () => {
        await fsyncFile(tmp);
        await rename(tmp, final);
        this.added.push(final);
        crashPoint('import:staged-blob');
      },
      abort: async () => {
        // A stream destroyed before its file is open still opens (creates) it, then closes:
        // removing the file before that would leave an empty temp file behind.
        if (!stream.closed) {
          const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
          stream.destroy();
          await closed;
        }
        await rm(tmp, { force: true });
      },
    };
  }

  /** Undoes this run's additions to staging, so a refused volume leaves nothing behind. */
  async rollback(): Promise<void> {
    for (const f of this.added) await rm(f, { force: true });
    if (this.dir && (await readdir(this.dir).catch(() => [])).length === 0) await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * An artifact never changes once stored: refuse the whole bundle before reading its blobs.
 * Returns how many of the artifacts the store already holds.
 */
async function refuseConflicts(meta: MetadataReader, artifacts: Iterable<ArtifactRecord>): Promise<number> {
  let held = 0;
  for (const a of artifacts) {
    const prior = await meta.getArtifact(a.ecosystem, a.key);
    if (prior && prior.digest !== a.digest) {
      throw new AirlockError('CONFLICT', `${a.ecosystem}:${a.key}: the store already holds ${prior.digest}, the bundle has ${a.digest}`, {
        hint: 'an artifact never changes once stored; publish it under a new name or version',
      });
    }
    if (prior) held++;
  }
  return held;
}

/** What one volume's run records in the transaction of its outcome: the override that let it in (first), and its history line. */
async function recordOutcome(tx: MetadataTransaction, sink: StagingSink, rec: ImportRecord): Promise<void> {
  if (sink.override) await tx.audit(sink.override);
  await tx.recordImport(rec);
}

/**
 * An errno error while importing is either the store's side (staging ran out of room, or is
 * read-only) or the bundle file's (a failing disk); either way one line says which and where.
 */
async function ioFailure(e: unknown, store: Store, file: string, sink: StagingSink): Promise<unknown> {
  if (!isSystemError(e) || e.code === 'ENOENT') return e;
  if (sink.writeFailed === undefined) return new AirlockError('IO_ERROR', `${file}: cannot read (${ioReason(e)})`);
  const need = sink.info ? `: the bundle needs ${sink.info.entries.totalSize} bytes` : '';
  const free = await freeSpace(store.home);
  return new AirlockError('IO_ERROR', `${file}: cannot stage into the store at ${store.home} (${ioReason(sink.writeFailed)})${need}${free === undefined ? '' : `, ${free} are free`}`);
}

async function importVolume(store: Store, file: string, reporter: Reporter, opts: ImportOptions): Promise<VolumeResult> {
  const label = basename(file);
  const sink = new StagingSink(store, file, opts, reporter);
  crashPoint('import:start');
  let info: VolumeInfo;
  try {
    info = await readBundleVolume(file, sink);
  } catch (caught) {
    await sink.rollback();
    const e = await ioFailure(caught, store, file, sink);
    const message = isAirlockError(e) ? e.message : describeError(e);
    await store.meta.transaction(async (tx) => {
      await recordOutcome(tx, sink, { bundleId: sink.info?.bundleId ?? null, source: file, volumes: sink.info ? [sink.info.volume] : [], outcome: 'refused', message });
      await tx.audit({ actor: localActor(), action: 'import', subject: sink.info ? `${sink.info.manifest.name} ${sink.info.bundleId}` : file, outcome: 'refused', detail: { file, message } });
    });
    if (isAirlockError(e) || (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    throw new AirlockError('NOT_FOUND', `${file}: no such file`);
  }
  const m = info.manifest;
  const base = { file, bundleId: info.bundleId, name: m.name, volume: info.volume, volumes: m.volumes, added: 0, existing: 0 };
  if (sink.skipReason === 'imported') {
    const restored = await restoreRemoved(store, file, info, sink, reporter);
    return { ...base, outcome: 'unchanged', added: restored, missing: [] };
  }
  const { received, missing } = await store.meta.transaction(async (tx) => {
    if (sink.skipReason === undefined) {
      await tx.stageVolume(
        {
          id: info.bundleId,
          name: m.name,
          sequence: m.sequence,
          creator: m.creator,
          volumeCount: m.volumes,
          artifactCount: info.entries.artifactCount,
          totalSize: info.entries.totalSize,
        },
        info.volume,
      );
    }
    const received = await tx.receivedVolumes(info.bundleId);
    const missing = Array.from({ length: m.volumes }, (_, i) => i + 1).filter((v) => !received.includes(v));
    if (missing.length > 0) await recordOutcome(tx, sink, { bundleId: info.bundleId, source: file, volumes: [info.volume], outcome: 'staged' });
    return { received, missing };
  });
  if (sink.skipReason === undefined) reporter.info(`${label}: volume ${info.volume}/${m.volumes} of bundle ${m.name} verified`);
  if (missing.length > 0) return { ...base, outcome: 'staged', missing };
  let res: { added: number; existing: number };
  try {
    res = await commitBundle(store, info, reporter, async (tx, counts) => {
      await recordOutcome(tx, sink, { bundleId: info.bundleId, source: file, volumes: received, outcome: 'imported', artifactsAdded: counts.added, artifactsExisting: counts.existing });
      return tx.audit({ actor: localActor(), action: 'import', subject: `${m.name} ${info.bundleId}`, outcome: 'imported', detail: { file, sequence: m.sequence, creator: m.creator, ...counts } });
    });
  } catch (caught) {
    // Reassembling chunked blobs writes into the store's file system too.
    const e = !isSystemError(caught) ? caught : new AirlockError('IO_ERROR', `bundle ${m.name}: cannot finish the import into the store at ${store.home} (${ioReason(caught)})`);
    const message = isAirlockError(e) ? e.message : describeError(e);
    await store.meta.transaction(async (tx) => {
      await recordOutcome(tx, sink, { bundleId: info.bundleId, source: file, volumes: received, outcome: 'refused', message });
      await tx.audit({ actor: localActor(), action: 'import', subject: `${m.name} ${info.bundleId}`, outcome: 'refused', detail: { file, message } });
    });
    throw e;
  }
  return { ...base, outcome: 'imported', missing: [], ...res };
}

/**
 * An imported bundle imported again registers anew what was deleted from it since (an admin
 * removing an image): the bundle was accepted once and its blobs stayed in the store, only
 * the rows went. Returns how many came back.
 */
async function restoreRemoved(store: Store, file: string, info: VolumeInfo, sink: StagingSink, reporter: Reporter): Promise<number> {
  const gone: ArtifactRecord[] = [];
  for (const a of info.entries.artifacts()) if (!(await store.meta.getArtifact(a.ecosystem, a.key))) gone.push(a);
  const unchanged: ImportRecord = { bundleId: info.bundleId, source: file, volumes: [info.volume], outcome: 'unchanged', artifactsAdded: gone.length };
  if (gone.length === 0) {
    await store.meta.transaction((tx) => recordOutcome(tx, sink, unchanged));
    return 0;
  }
  for (const a of gone) {
    for (const b of a.blobs) {
      if (!(await store.blobs.stat(b.digest))) {
        throw new AirlockError('STORE_CORRUPT', `bundle ${info.manifest.name}: ${artifactLabel(a)} was deleted and its blob ${b.digest} is no longer in the store`, { hint: 'airlock verify lists what the store is missing' });
      }
    }
  }
  await store.meta.transaction(async (tx) => {
    await recordOutcome(tx, sink, unchanged);
    const because = await tx.audit({ actor: localActor(), action: 'import', subject: `${info.manifest.name} ${info.bundleId}`, outcome: 'restored', detail: { artifacts: gone.map(artifactLabel) } });
    await tx.putArtifacts(gone, info.bundleId, because);
  });
  reporter.info(`bundle ${info.manifest.name}: ${gone.length} deleted artifact(s) registered again`);
  return gone.length;
}

/**
 * All volumes are in: rebuild chunked blobs, move every blob into the store, then make the
 * artifacts visible in one transaction, with what `record` writes of it (its history line and
 * audit entry, which the commit names). A kill anywhere here leaves only unreferenced blobs
 * in the store and the staging rows in place, so a re-run finishes the job; a kill after the
 * commit leaves the import and its entry both in.
 */
async function commitBundle(
  store: Store,
  info: VolumeInfo,
  reporter: Reporter,
  record: (tx: MetadataTransaction, counts: CommitResult) => Promise<AuditRow>,
): Promise<CommitResult> {
  const dir = store.stagingDir(hexOf(info.bundleId));
  await mkdir(dir, { recursive: true });
  await refuseConflicts(store.meta, info.entries.artifacts());
  for (const p of info.entries.blobs()) {
    if (await store.blobs.stat(p.digest)) continue;
    const staged = join(dir, hexOf(p.digest));
    if (p.chunks && !(await exists(staged))) await reassemble(dir, p.digest, p.chunks, info.manifest.name);
    if (!(await exists(staged))) {
      throw new AirlockError('STORE_CORRUPT', `bundle ${info.manifest.name}: staged blob ${p.digest} has disappeared`, {
        hint: 'import the bundle volumes again',
      });
    }
    await store.blobs.adopt(staged, { digest: p.digest, size: p.size });
    crashPoint('import:adopted-blob');
  }
  crashPoint('import:before-commit');
  // The manifest is kept so the store can say later exactly what each bundle carried.
  await store.blobs.put(
    Readable.from([info.manifestBytes]),
    `bundle ${info.manifest.name} manifest`,
    { digest: info.bundleId },
  );
  const res = await store.meta.transaction(async (tx) => {
    // Counted in the transaction, before the commit the entry names: the records are parsed
    // from the manifest's bytes as they are read, never all held at once.
    const existing = await refuseConflicts(tx, info.entries.artifacts());
    const because = await record(tx, { added: info.entries.artifactCount - existing, existing });
    return tx.commitBundle(info.bundleId, info.entries.artifacts(), because);
  });
  crashPoint('import:after-commit');
  await rm(dir, { recursive: true, force: true });
  reporter.info(`bundle ${info.manifest.name}: ${res.added} artifact(s) added, ${res.existing} already present`);
  return res;
}

async function reassemble(dir: string, digest: Digest, chunks: { digest: Digest }[], bundle: string): Promise<void> {
  const final = join(dir, hexOf(digest));
  const tmp = tempPathFor(final);
  const h = new HashingStream();
  const out = createWriteStream(tmp, { flags: 'wx', highWaterMark: 1 << 20 });
  try {
    await pipeline(
      async function* () {
        for (const c of chunks) yield* createReadStream(join(dir, hexOf(c.digest)), { highWaterMark: 1 << 20 });
      },
      h,
      out,
    );
    if (h.digest() !== digest) {
      throw new AirlockError('DIGEST_MISMATCH', `bundle ${bundle}: blob ${digest} reassembled from ${chunks.length} chunks hashes to ${h.digest()}`);
    }
    await fsyncFile(tmp);
    await rename(tmp, final);
    await fsyncDir(dir);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  for (const c of chunks) await rm(join(dir, hexOf(c.digest)), { force: true });
}

/** Imports volume files in the order given, holding the store's write lock throughout. */
export type ImportOptions = GateOptions;

export async function importBundles(store: Store, files: readonly string[], reporter: Reporter, opts: ImportOptions = {}): Promise<VolumeResult[]> {
  return store.withWriteLock('import', async () => {
    const stagingRoot = join(store.home, 'staging');
    for (const d of await readdir(stagingRoot).catch(() => [] as string[])) {
      // A run killed right after its commit leaves its staging behind; the bundle is in.
      const row = await store.meta.getBundle(`sha256:${d}`);
      if (row?.status === 'imported') await rm(join(stagingRoot, d), { recursive: true, force: true });
      else await removeDeadTemps(join(stagingRoot, d));
    }
    await removeDeadTemps(await store.blobs.tempDir());
    const out: VolumeResult[] = [];
    for (const f of files) out.push(await importVolume(store, f, reporter, opts));
    return out;
  });
}
