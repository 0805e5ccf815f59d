import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type ArtifactRecord, artifactLabel } from '../core/artifact.js';
import { type Digest, HashingStream, hexOf } from '../core/digest.js';
import { AirlockError, describeError, isAirlockError } from '../core/errors.js';
import { crashPoint } from '../core/faults.js';
import type { StagingArea } from '../core/blobstore.js';
import { freeSpace, ioReason, isSystemError, removeDeadTemps } from '../core/fsutil.js';
import {
  type AuditEvent,
  type AuditRow,
  type CommitResult,
  type ImportRecord,
  type MetadataReader,
  type MetadataTransaction,
  audited,
} from '../core/metadata.js';
import type { Reporter } from '../core/report.js';
import type { Store } from '../core/store.js';
import { localActor } from '../audit/log.js';
import { type GateOptions, checkCustody, checkSequence } from '../custody/gate.js';
import { volumeEntries } from '../bundle/format.js';
import type { BlobSink, BlobTarget, VolumeInfo } from '../bundle/reader.js';
import { readBundleHeader, readBundleVolume } from './bundle.js';

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

/**
 * Stages one volume's blobs in the bundle's staging area, so volumes can arrive in any order
 * and a killed run can pick up what it already verified. Blobs it added are removed again if
 * the volume turns out bad.
 */
class StagingSink implements BlobSink {
  info: VolumeInfo | undefined;
  skipReason: 'imported' | 'received' | undefined;
  area: StagingArea | undefined;
  readonly added: Digest[] = [];
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
    this.area = await this.store.blobs.staging(hexOf(info.bundleId));
    if ((await this.store.meta.receivedVolumes(info.bundleId)).includes(info.volume)) {
      if (await this.stillStaged(info)) {
        this.skipReason = 'received';
        return false;
      }
      // Recorded but its blobs are gone (a power cut took names an older airlock never
      // synced, or a hand in the staging folder): reading the volume again is the repair.
      await this.store.meta.transaction((tx) => tx.reopenVolumes(info.bundleId, [info.volume]));
      this.reporter.warn(
        `${basename(this.file)}: volume ${info.volume} of bundle ${info.manifest.name} was received but its staged blobs are gone; reading it again`,
      );
    }
    await refuseConflicts(this.store.meta, info.entries.artifacts());
    return true;
  }

  /** Whether every blob this volume carried is still staged, or already moved on (reassembled, adopted). */
  private async stillStaged(info: VolumeInfo): Promise<boolean> {
    const area = this.area!;
    for (const e of volumeEntries(info.entries.blobs(), info.volume)) {
      if (await area.has(e.digest)) continue;
      if (e.source !== e.digest && (await area.has(e.source))) continue;
      if (!(await this.store.blobs.stat(e.source))) return false;
    }
    return true;
  }

  async open(entry: { digest: Digest }): Promise<BlobTarget | undefined> {
    const area = this.area!;
    if (await area.has(entry.digest)) return undefined;
    const w = await area.open(entry.digest);
    w.stream.on('error', (e) => {
      this.writeFailed ??= e;
    });
    return {
      stream: w.stream,
      commit: async () => {
        await w.commit();
        this.added.push(entry.digest);
        crashPoint('import:staged-blob');
      },
      abort: () => w.abort(),
    };
  }

  /** Undoes this run's additions to staging, so a refused volume leaves nothing behind. */
  async rollback(): Promise<void> {
    if (!this.area) return;
    for (const d of this.added) await this.area.remove(d);
    if (await this.area.empty()) await this.area.discard();
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
  return new AirlockError(
    'IO_ERROR',
    `${file}: cannot stage into the store at ${store.home} (${ioReason(sink.writeFailed)})${need}${free === undefined ? '' : `, ${free} are free`}`,
  );
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
      await recordOutcome(tx, sink, {
        bundleId: sink.info?.bundleId ?? null,
        source: file,
        volumes: sink.info ? [sink.info.volume] : [],
        outcome: 'refused',
        message,
      });
      await tx.audit({
        actor: localActor(),
        action: 'import',
        subject: sink.info ? `${sink.info.manifest.name} ${sink.info.bundleId}` : file,
        outcome: 'refused',
        detail: { file, message },
      });
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
  if (sink.skipReason === undefined) {
    // The row says the volume's blobs are here: they must outlive a power cut before it does.
    await sink.area!.durable();
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
    if (missing.length > 0)
      await recordOutcome(tx, sink, { bundleId: info.bundleId, source: file, volumes: [info.volume], outcome: 'staged' });
    return { received, missing };
  });
  if (sink.skipReason === undefined) reporter.info(`${label}: volume ${info.volume}/${m.volumes} of bundle ${m.name} verified`);
  if (missing.length > 0) return { ...base, outcome: 'staged', missing };
  let res: Committed;
  try {
    res = await commitBundle(store, info, reporter, async (tx, counts) => {
      await recordOutcome(tx, sink, {
        bundleId: info.bundleId,
        source: file,
        volumes: received,
        outcome: 'imported',
        artifactsAdded: counts.added,
        artifactsExisting: counts.existing,
      });
      return tx.audit({
        actor: localActor(),
        action: 'import',
        subject: `${m.name} ${info.bundleId}`,
        outcome: 'imported',
        detail: { file, sequence: m.sequence, creator: m.creator, ...counts },
      });
    });
  } catch (caught) {
    // Reassembling chunked blobs writes into the store's file system too.
    const e = !isSystemError(caught)
      ? caught
      : new AirlockError('IO_ERROR', `bundle ${m.name}: cannot finish the import into the store at ${store.home} (${ioReason(caught)})`);
    const message = isAirlockError(e) ? e.message : describeError(e);
    await store.meta.transaction(async (tx) => {
      await recordOutcome(tx, sink, { bundleId: info.bundleId, source: file, volumes: received, outcome: 'refused', message });
      await tx.audit({
        actor: localActor(),
        action: 'import',
        subject: `${m.name} ${info.bundleId}`,
        outcome: 'refused',
        detail: { file, message },
      });
    });
    throw e;
  }
  if ('reopened' in res) {
    const { reopened, message } = res;
    const now = await store.meta.transaction(async (tx) => {
      await tx.reopenVolumes(info.bundleId, reopened);
      await recordOutcome(tx, sink, { bundleId: info.bundleId, source: file, volumes: [info.volume], outcome: 'staged', message });
      await tx.audit({
        actor: localActor(),
        action: 'import',
        subject: `${m.name} ${info.bundleId}`,
        outcome: 'reopened',
        detail: { file, volumes: reopened, message },
      });
      return tx.receivedVolumes(info.bundleId);
    });
    return { ...base, outcome: 'staged', missing: Array.from({ length: m.volumes }, (_, i) => i + 1).filter((v) => !now.includes(v)) };
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
  const unchanged: ImportRecord = {
    bundleId: info.bundleId,
    source: file,
    volumes: [info.volume],
    outcome: 'unchanged',
    artifactsAdded: gone.length,
  };
  if (gone.length === 0) {
    await store.meta.transaction((tx) => recordOutcome(tx, sink, unchanged));
    return 0;
  }
  for (const a of gone) {
    for (const b of a.blobs) {
      if (!(await store.blobs.stat(b.digest))) {
        throw new AirlockError(
          'STORE_CORRUPT',
          `bundle ${info.manifest.name}: ${artifactLabel(a)} was deleted and its blob ${b.digest} is no longer in the store`,
          { hint: 'airlock verify lists what the store is missing' },
        );
      }
    }
  }
  await store.meta.transaction(async (tx) => {
    await recordOutcome(tx, sink, unchanged);
    const because = await tx.audit({
      actor: localActor(),
      action: 'import',
      subject: `${info.manifest.name} ${info.bundleId}`,
      outcome: 'restored',
      detail: { artifacts: gone.map(artifactLabel) },
    });
    await tx.putArtifacts(gone, info.bundleId, because);
  });
  reporter.info(`bundle ${info.manifest.name}: ${gone.length} deleted artifact(s) registered again`);
  return gone.length;
}

type Committed = { added: number; existing: number } | { reopened: number[]; message: string };

/**
 * All volumes are in: rebuild chunked blobs, move every blob into the store in one durable
 * batch, then make the artifacts visible in one transaction, with what `record` writes of it
 * (its history line and audit entry, which the commit names). A kill anywhere here leaves
 * only unreferenced blobs in the store and the staging rows in place, so a re-run finishes
 * the job; a kill after the commit leaves the import and its entry both in. A staged blob
 * that is gone (a power cut on a file system that lost the names, or a hand in the staging
 * folder) names the volumes that carried it, for the caller to re-open, so importing them
 * again finishes.
 */
async function commitBundle(
  store: Store,
  info: VolumeInfo,
  reporter: Reporter,
  record: (tx: MetadataTransaction, counts: CommitResult) => Promise<AuditRow>,
): Promise<Committed> {
  const name = info.manifest.name;
  const area = await store.blobs.staging(hexOf(info.bundleId));
  await refuseConflicts(store.meta, info.entries.artifacts());
  const lost = new Map<Digest, number[]>();
  for (const p of info.entries.blobs()) {
    if (!p.chunks || (await area.has(p.digest)) || (await store.blobs.stat(p.digest))) continue;
    const gone: number[] = [];
    for (const c of p.chunks) if (!(await area.has(c.digest))) gone.push(c.volume);
    if (gone.length > 0) lost.set(p.digest, gone);
    else await reassemble(area, p.digest, p.chunks, name);
  }
  const whole = function* (): Generator<{ digest: Digest; size: number }> {
    for (const p of info.entries.blobs()) if (!lost.has(p.digest)) yield { digest: p.digest, size: p.size };
  };
  const missing = await area.adopt(whole(), () => crashPoint('import:adopted-blob'));
  if (missing.length > 0) {
    const gone = new Set(missing);
    for (const p of info.entries.blobs()) if (gone.has(p.digest)) lost.set(p.digest, p.volume === undefined ? [] : [p.volume]);
  }
  if (lost.size > 0) {
    const reopened = [...new Set([...lost.values()].flat())].sort((x, y) => x - y);
    const [first] = lost.keys();
    const message = `bundle ${name}: staged blob ${first}${lost.size > 1 ? ` and ${lost.size - 1} more` : ''} has disappeared; import volume(s) ${reopened.join(', ')} again`;
    reporter.warn(message);
    return { reopened, message };
  }
  crashPoint('import:before-commit');
  // The manifest is kept so the store can say later exactly what each bundle carried.
  await store.blobs.put(Readable.from(info.entries.bytes.chunks()), `bundle ${info.manifest.name} manifest`, { digest: info.bundleId });
  const res = await store.meta.transaction(async (tx) => {
    // Counted in the transaction, before the commit the entry names: the records are parsed
    // from the manifest's bytes as they are read, never all held at once.
    const existing = await refuseConflicts(tx, info.entries.artifacts());
    const because = await record(tx, { added: info.entries.artifactCount - existing, existing });
    return tx.commitBundle(info.bundleId, info.entries.artifacts(), because);
  });
  crashPoint('import:after-commit');
  await area.discard();
  reporter.info(`bundle ${name}: ${res.added} artifact(s) added, ${res.existing} already present`);
  return res;
}

async function reassemble(area: StagingArea, digest: Digest, chunks: { digest: Digest }[], bundle: string): Promise<void> {
  const h = new HashingStream();
  const w = await area.open(digest);
  try {
    await pipeline(
      async function* () {
        for (const c of chunks) yield* area.read(c.digest);
      },
      h,
      w.stream,
    );
    if (h.digest() !== digest) {
      throw new AirlockError(
        'DIGEST_MISMATCH',
        `bundle ${bundle}: blob ${digest} reassembled from ${chunks.length} chunks hashes to ${h.digest()}`,
      );
    }
    await w.commit();
    await area.durable();
  } catch (e) {
    await w.abort();
    throw e;
  }
  for (const c of chunks) await area.remove(c.digest);
}

/** A bundle named as the CLI names one (a bundle file or any of its volumes), or by its id when no volume is left at hand. */
async function bundleIdOf(bundle: string): Promise<Digest> {
  const hex = /^(?:sha256:)?([0-9a-f]{64})$/.exec(bundle)?.[1];
  return hex ? `sha256:${hex}` : (await readBundleHeader(bundle)).bundleId;
}

/** Drops a bundle's staging set on purpose (`import --abandon`): its staged blobs and rows go, audited. */
export async function abandonStaging(store: Store, bundle: string): Promise<{ bundleId: Digest; name: string; volumes: number[] }> {
  return store.withWriteLock('import', async () => {
    const id = await bundleIdOf(bundle);
    const row = await store.meta.getBundle(id);
    if (row?.status === 'imported')
      throw new AirlockError('CONFLICT', `bundle ${row.name} (${id}) is already imported; there is no staging set to abandon`);
    if (!row && !(await store.blobs.stagingAreas()).includes(hexOf(id)))
      throw new AirlockError('NOT_FOUND', `bundle ${id} is not staged in this store`);
    const volumes = await store.meta.receivedVolumes(id);
    await (await store.blobs.staging(hexOf(id))).discard();
    const name = row?.name ?? bundle;
    await audited(
      store.meta,
      { actor: localActor(), action: 'import.abandon', subject: `${name} ${id}`, outcome: 'abandoned', detail: { volumes } },
      (tx, because) => tx.abandonBundle(id, because),
    );
    return { bundleId: id, name, volumes };
  });
}

/** Imports volume files in the order given, holding the store's write lock throughout. */
export type ImportOptions = GateOptions;

export async function importBundles(
  store: Store,
  files: readonly string[],
  reporter: Reporter,
  opts: ImportOptions = {},
): Promise<VolumeResult[]> {
  return store.withWriteLock('import', async () => {
    for (const d of await store.blobs.stagingAreas()) {
      // A run killed right after its commit leaves its staging behind; the bundle is in.
      const row = await store.meta.getBundle(`sha256:${d}`);
      const area = await store.blobs.staging(d);
      if (row?.status === 'imported') await area.discard();
      else await area.sweep();
    }
    await removeDeadTemps(await store.blobs.tempDir());
    const out: VolumeResult[] = [];
    for (const f of files) out.push(await importVolume(store, f, reporter, opts));
    return out;
  });
}
