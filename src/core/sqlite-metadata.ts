import { AsyncLocalStorage } from 'node:async_hooks';
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { type ArtifactRecord, type StoredArtifact, artifactLabel } from './artifact.js';
import { auditFields, entryHash } from './audit-entry.js';
import { openDatabase, rollback } from './db.js';
import type { Digest } from './digest.js';
import { AirlockError } from './errors.js';
import type {
  ArtifactFilter,
  AuditEvent,
  AuditRow,
  BundleRow,
  CommitResult,
  ImportRecord,
  ImportRow,
  MetadataReader,
  MetadataStore,
  MetadataTransaction,
  RevokeResult,
  TokenRole,
  TokenRow,
} from './metadata.js';

type Row = Record<string, unknown>;

const now = (): string => new Date().toISOString();

/** Tokens with the name of the token that minted each. */
const TOKENS = 'SELECT t.*, p.name AS parent_name FROM tokens t LEFT JOIN tokens p ON p.id = t.parent_id';

/** Rows per query when walking the audit log; each is still handed out one at a time. */
const AUDIT_PAGE = 500;

/**
 * The SQL, synchronous as node:sqlite is. Writers assume a transaction is open; only
 * SqliteMetadataStore.transaction opens one.
 */
class Connection {
  private blobsOf: StatementSync | undefined;
  /** Prepared once: import asks once per artifact, and each statement holds native memory until a GC finds it. */
  private artifactByKey: StatementSync | undefined;
  /** Asked by every cached page once the store's revision moves. */
  private nameRevision: StatementSync | undefined;
  private ecosystemRevision: StatementSync | undefined;
  ownCommits = 0;

  constructor(readonly db: DatabaseSync) {}

  storeId(): string {
    return String(this.db.prepare('SELECT id FROM store_info WHERE one = 1').get()!.id);
  }

  listArtifacts(filter: ArtifactFilter = {}): StoredArtifact[] {
    const { sql, args } = artifactsQuery(filter);
    return this.db
      .prepare(sql)
      .all(...args)
      .map((r) => this.toArtifact(r));
  }

  contentRevision(ecosystem: string, name?: string): number {
    this.nameRevision ??= this.db.prepare('SELECT generation FROM name_revisions WHERE ecosystem = ? AND name = ?');
    this.ecosystemRevision ??= this.db.prepare('SELECT generation FROM ecosystem_revisions WHERE ecosystem = ?');
    const r = name === undefined ? this.ecosystemRevision.get(ecosystem) : this.nameRevision.get(ecosystem, name);
    return r ? Number(r.generation) : 0;
  }

  revision(): string {
    // data_version moves on other connections' commits; our own are counted here.
    const v = (this.db.prepare('PRAGMA data_version').get() as { data_version: number }).data_version;
    return `${v}.${this.ownCommits}`;
  }

  listNames(ecosystem: string): string[] {
    return this.db
      .prepare('SELECT DISTINCT name FROM artifacts WHERE ecosystem = ? ORDER BY name')
      .all(ecosystem)
      .map((r) => String(r.name));
  }

  getArtifact(ecosystem: string, key: string): StoredArtifact | undefined {
    this.artifactByKey ??= this.db.prepare('SELECT * FROM artifacts WHERE ecosystem = ? AND key = ?');
    const r = this.artifactByKey.get(ecosystem, key);
    return r ? this.toArtifact(r) : undefined;
  }

  deleteArtifacts(ecosystem: string, keys: readonly string[]): number {
    const stmt = this.db.prepare('DELETE FROM artifacts WHERE ecosystem = ? AND key = ?');
    return keys.reduce((sum, k) => sum + Number(stmt.run(ecosystem, k).changes), 0);
  }

  setRef(ecosystem: string, name: string, ref: string, value: string | null): void {
    if (value === null) this.db.prepare('DELETE FROM refs WHERE ecosystem = ? AND name = ? AND ref = ?').run(ecosystem, name, ref);
    else {
      this.db
        .prepare(
          'INSERT INTO refs (ecosystem, name, ref, value, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (ecosystem, name, ref) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
        )
        .run(ecosystem, name, ref, value, now());
    }
  }

  listRefs(ecosystem: string, name: string): { ref: string; value: string; updatedAt: string }[] {
    return this.db
      .prepare('SELECT ref, value, updated_at FROM refs WHERE ecosystem = ? AND name = ? ORDER BY ref')
      .all(ecosystem, name)
      .map((r) => ({ ref: String(r.ref), value: String(r.value), updatedAt: String(r.updated_at) }));
  }

  setTrustPolicy(policy: string, source: string): void {
    this.db.prepare('INSERT INTO trust_policies (policy, source, installed_at) VALUES (?, ?, ?)').run(policy, source, now());
  }

  trustPolicy(): { policy: string; source: string; installedAt: string } | undefined {
    const r = this.db.prepare('SELECT policy, source, installed_at FROM trust_policies ORDER BY id DESC LIMIT 1').get();
    return r ? { policy: String(r.policy), source: String(r.source), installedAt: String(r.installed_at) } : undefined;
  }

  appendAudit(event: AuditEvent): AuditRow {
    const entry = auditFields(event);
    const last = this.db.prepare('SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1').get();
    const withPrev = { ...entry, prevHash: last ? String(last.hash) : '' };
    const hash = entryHash(withPrev);
    const r = this.db
      .prepare('INSERT INTO audit_log (at, actor, action, subject, outcome, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(entry.at, entry.actor, entry.action, entry.subject, entry.outcome, entry.detail, withPrev.prevHash, hash);
    this.db
      .prepare(
        'INSERT INTO audit_head (one, count, hash) VALUES (1, 1, ?) ON CONFLICT (one) DO UPDATE SET count = count + 1, hash = excluded.hash',
      )
      .run(hash);
    return { id: Number(r.lastInsertRowid), ...withPrev, hash };
  }

  auditHead(): { count: number; hash: string } | undefined {
    const r = this.db.prepare('SELECT count, hash FROM audit_head WHERE one = 1').get();
    return r ? { count: Number(r.count), hash: String(r.hash) } : undefined;
  }

  listAudit(): AuditRow[] {
    return this.db.prepare('SELECT * FROM audit_log ORDER BY id').all().map(toAudit);
  }

  *iterateAudit(opts: { since?: string } = {}): Iterable<AuditRow> {
    // Pages by id, not OFFSET: each page starts where the last ended, whatever was appended meanwhile.
    const page = this.db.prepare(`SELECT * FROM audit_log WHERE id > ?${opts.since ? ' AND at >= ?' : ''} ORDER BY id LIMIT ${AUDIT_PAGE}`);
    let after = 0;
    for (;;) {
      let n = 0;
      for (const r of page.iterate(...(opts.since ? [after, opts.since] : [after]))) {
        n++;
        after = Number(r.id);
        yield toAudit(r);
      }
      if (n < AUDIT_PAGE) return;
    }
  }

  blobReferences(): Iterable<Row> {
    return this.db
      .prepare(
        `SELECT b.digest, b.size, a.ecosystem, a.key FROM artifact_blobs b JOIN artifacts a ON a.id = b.artifact_id
         ORDER BY a.ecosystem, a.key, b.position`,
      )
      .iterate();
  }

  getBundle(id: string): BundleRow | undefined {
    const r = this.db.prepare('SELECT * FROM bundles WHERE id = ?').get(id);
    return r ? toBundle(r) : undefined;
  }

  listBundles(): BundleRow[] {
    return this.db.prepare('SELECT * FROM bundles ORDER BY first_seen_at, id').all().map(toBundle);
  }

  stageVolume(b: Omit<BundleRow, 'status' | 'firstSeenAt' | 'importedAt'>, volume: number): void {
    this.db
      .prepare(
        `INSERT OR IGNORE INTO bundles (id, name, sequence, creator, volume_count, artifact_count, total_size, status, first_seen_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'staging', ?)`,
      )
      .run(b.id, b.name, b.sequence, b.creator, b.volumeCount, b.artifactCount, b.totalSize, now());
    this.db.prepare('INSERT OR IGNORE INTO bundle_volumes (bundle_id, volume, received_at) VALUES (?, ?, ?)').run(b.id, volume, now());
  }

  receivedVolumes(bundleId: string): number[] {
    return this.db
      .prepare('SELECT volume FROM bundle_volumes WHERE bundle_id = ? ORDER BY volume')
      .all(bundleId)
      .map((r) => Number(r.volume));
  }

  reopenVolumes(bundleId: string, volumes: readonly number[]): void {
    const del = this.db.prepare(
      `DELETE FROM bundle_volumes WHERE bundle_id = ? AND volume = ? AND EXISTS (SELECT 1 FROM bundles WHERE id = ? AND status = 'staging')`,
    );
    for (const v of volumes) del.run(bundleId, v, bundleId);
  }

  abandonBundle(bundleId: string): void {
    this.db
      .prepare(`DELETE FROM bundle_volumes WHERE bundle_id = ? AND EXISTS (SELECT 1 FROM bundles WHERE id = ? AND status = 'staging')`)
      .run(bundleId, bundleId);
    this.db.prepare(`DELETE FROM bundles WHERE id = ? AND status = 'staging'`).run(bundleId);
  }

  commitBundle(bundleId: string, records: Iterable<ArtifactRecord>): CommitResult {
    const res = this.insertArtifacts(records, bundleId);
    this.db.prepare(`UPDATE bundles SET status = 'imported', imported_at = ? WHERE id = ?`).run(now(), bundleId);
    return res;
  }

  recordImport(rec: ImportRecord): void {
    this.db
      .prepare(
        `INSERT INTO imports (bundle_id, source, volumes, outcome, artifacts_added, artifacts_existing, message, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        rec.bundleId,
        rec.source,
        JSON.stringify(rec.volumes),
        rec.outcome,
        rec.artifactsAdded ?? 0,
        rec.artifactsExisting ?? 0,
        rec.message ?? null,
        now(),
      );
  }

  listImports(): ImportRow[] {
    return this.db
      .prepare('SELECT * FROM imports ORDER BY id')
      .all()
      .map((r) => ({
        id: Number(r.id),
        bundleId: (r.bundle_id as string | null) ?? null,
        source: String(r.source),
        volumes: JSON.parse(String(r.volumes)) as number[],
        outcome: r.outcome as ImportRow['outcome'],
        artifactsAdded: Number(r.artifacts_added),
        artifactsExisting: Number(r.artifacts_existing),
        message: (r.message as string | null) ?? '',
        at: String(r.at),
      }));
  }

  sequenceFor(creator: string, lockKey: string): number {
    const known = this.db.prepare('SELECT sequence FROM lock_sequences WHERE creator = ? AND lock_key = ?').get(creator, lockKey);
    if (known) return Number(known.sequence);
    const next = Number(
      this.db
        .prepare(
          'INSERT INTO creator_sequences (creator, last) VALUES (?, 1) ON CONFLICT (creator) DO UPDATE SET last = last + 1 RETURNING last',
        )
        .get(creator)!.last,
    );
    this.db.prepare('INSERT INTO lock_sequences (creator, lock_key, sequence) VALUES (?, ?, ?)').run(creator, lockKey, next);
    return next;
  }

  adoptSequences(creator: string, last: number, byLock: Record<string, number>): void {
    this.db
      .prepare(
        'INSERT INTO creator_sequences (creator, last) VALUES (?, ?) ON CONFLICT (creator) DO UPDATE SET last = max(last, excluded.last)',
      )
      .run(creator, last);
    const put = this.db.prepare('INSERT OR IGNORE INTO lock_sequences (creator, lock_key, sequence) VALUES (?, ?, ?)');
    for (const [lockKey, sequence] of Object.entries(byLock)) put.run(creator, lockKey, sequence);
  }

  createToken(name: string, role: TokenRole, hash: string, parent?: number): void {
    try {
      this.db
        .prepare('INSERT INTO tokens (name, role, hash, created_at, parent_id) VALUES (?, ?, ?, ?, ?)')
        .run(name, role, hash, now(), parent ?? null);
    } catch (e) {
      if (String((e as Error).message).includes('UNIQUE')) {
        throw new AirlockError('CONFLICT', `token "${name}" already exists`, { hint: `revoke it first: airlock token revoke ${name}` });
      }
      throw e;
    }
  }

  listTokens(): TokenRow[] {
    return this.db.prepare(`${TOKENS} ORDER BY t.name`).all().map(toToken);
  }

  getToken(name: string): TokenRow | undefined {
    const r = this.db.prepare(`${TOKENS} WHERE t.name = ?`).get(name);
    return r ? toToken(r) : undefined;
  }

  revokeToken(name: string, withChildren: boolean): RevokeResult {
    // Revoked rows stay, so the record of who could read the store survives.
    const at = now();
    const revoked =
      Number(this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL').run(at, name).changes) > 0;
    const children = withChildren
      ? this.db
          .prepare(
            'UPDATE tokens SET revoked_at = ? WHERE revoked_at IS NULL AND parent_id = (SELECT id FROM tokens WHERE name = ?) RETURNING name',
          )
          .all(at, name)
          .map((r) => String(r.name))
          .sort()
      : [];
    return { revoked, children };
  }

  findActiveToken(hash: string): TokenRow | undefined {
    const r = this.db.prepare(`${TOKENS} WHERE t.hash = ? AND t.revoked_at IS NULL`).get(hash);
    if (!r) return undefined;
    this.db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(now(), r.id as number);
    return toToken(r);
  }

  insertArtifacts(records: Iterable<ArtifactRecord>, bundleId: string | null): CommitResult {
    let added = 0;
    let existing = 0;
    const find = this.db.prepare('SELECT id, digest FROM artifacts WHERE ecosystem = ? AND key = ?');
    const insert = this.db.prepare(
      `INSERT INTO artifacts (ecosystem, key, name, version, digest, size, media_type, source, metadata, bundle_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertBlob = this.db.prepare(
      'INSERT INTO artifact_blobs (artifact_id, position, digest, size, media_type) VALUES (?, ?, ?, ?, ?)',
    );
    for (const a of records) {
      const prior = find.get(a.ecosystem, a.key);
      if (prior) {
        if (prior.digest !== a.digest) {
          throw new AirlockError('CONFLICT', `${artifactLabel(a)}: the store already holds ${String(prior.digest)}, this has ${a.digest}`, {
            hint: 'an artifact never changes once stored; publish it under a new name or version',
          });
        }
        existing++;
        continue;
      }
      const r = insert.run(
        a.ecosystem,
        a.key,
        a.name,
        a.version,
        a.digest,
        a.size,
        a.mediaType ?? null,
        a.source ?? null,
        JSON.stringify(a.metadata),
        bundleId,
        now(),
      );
      a.blobs.forEach((b, i) => insertBlob.run(r.lastInsertRowid, i, b.digest, b.size, b.mediaType ?? null));
      added++;
    }
    return { added, existing };
  }

  private toArtifact(r: Row): StoredArtifact {
    this.blobsOf ??= this.db.prepare('SELECT digest, size, media_type FROM artifact_blobs WHERE artifact_id = ? ORDER BY position');
    const blobs = this.blobsOf.all(r.id as number).map((b) => ({
      digest: b.digest as Digest,
      size: Number(b.size),
      ...(b.media_type ? { mediaType: String(b.media_type) } : {}),
    }));
    return {
      id: Number(r.id),
      ecosystem: String(r.ecosystem),
      key: String(r.key),
      name: String(r.name),
      version: String(r.version),
      digest: r.digest as Digest,
      size: Number(r.size),
      ...(r.media_type ? { mediaType: String(r.media_type) } : {}),
      ...(r.source ? { source: String(r.source) } : {}),
      metadata: JSON.parse(String(r.metadata)) as Record<string, unknown>,
      blobs,
      bundleId: (r.bundle_id as string | null) ?? null,
      createdAt: String(r.created_at),
    };
  }
}

/** Reads, the same in and out of a transaction; `ready` waits for the connection's turn. */
abstract class Reads implements MetadataReader {
  protected abstract readonly c: Connection;
  protected abstract ready(): Promise<void>;

  async storeId(): Promise<string> {
    await this.ready();
    return this.c.storeId();
  }
  async listArtifacts(filter?: ArtifactFilter): Promise<StoredArtifact[]> {
    await this.ready();
    return this.c.listArtifacts(filter);
  }
  async revision(): Promise<string> {
    await this.ready();
    return this.c.revision();
  }
  async contentRevision(ecosystem: string, name?: string): Promise<number> {
    await this.ready();
    return this.c.contentRevision(ecosystem, name);
  }
  async listNames(ecosystem: string): Promise<string[]> {
    await this.ready();
    return this.c.listNames(ecosystem);
  }
  async getArtifact(ecosystem: string, key: string): Promise<StoredArtifact | undefined> {
    await this.ready();
    return this.c.getArtifact(ecosystem, key);
  }
  async *blobReferences(): AsyncIterable<{ digest: Digest; size: number; artifact: string }> {
    for await (const r of this.rowByRow(this.c.blobReferences())) {
      yield {
        digest: r.digest as Digest,
        size: Number(r.size),
        artifact: artifactLabel({ ecosystem: String(r.ecosystem), key: String(r.key) }),
      };
    }
  }
  async listRefs(ecosystem: string, name: string): Promise<{ ref: string; value: string; updatedAt: string }[]> {
    await this.ready();
    return this.c.listRefs(ecosystem, name);
  }
  async getBundle(id: string): Promise<BundleRow | undefined> {
    await this.ready();
    return this.c.getBundle(id);
  }
  async listBundles(): Promise<BundleRow[]> {
    await this.ready();
    return this.c.listBundles();
  }
  async receivedVolumes(bundleId: string): Promise<number[]> {
    await this.ready();
    return this.c.receivedVolumes(bundleId);
  }
  async listImports(): Promise<ImportRow[]> {
    await this.ready();
    return this.c.listImports();
  }
  async listAudit(): Promise<AuditRow[]> {
    await this.ready();
    return this.c.listAudit();
  }
  iterateAudit(opts?: { since?: string }): AsyncIterable<AuditRow> {
    return this.rowByRow(this.c.iterateAudit(opts));
  }
  /**
   * A walk whose consumer awaits between rows: each row is read in the connection's turn, so
   * a transaction opened meanwhile commits before the next read, which never sees it half done.
   */
  private async *rowByRow<R>(rows: Iterable<R>): AsyncIterable<R> {
    const it = rows[Symbol.iterator]();
    for (;;) {
      await this.ready();
      const r = it.next();
      if (r.done) return;
      yield r.value;
    }
  }

  async auditHead(): Promise<{ count: number; hash: string } | undefined> {
    await this.ready();
    return this.c.auditHead();
  }
  async listTokens(): Promise<TokenRow[]> {
    await this.ready();
    return this.c.listTokens();
  }
  async getToken(name: string): Promise<TokenRow | undefined> {
    await this.ready();
    return this.c.getToken(name);
  }
  async findActiveToken(hash: string): Promise<TokenRow | undefined> {
    await this.ready();
    return this.c.findActiveToken(hash);
  }
  async trustPolicy(): Promise<{ policy: string; source: string; installedAt: string } | undefined> {
    await this.ready();
    return this.c.trustPolicy();
  }
}

/** The `tx` a transaction's function gets: usable until the transaction ends, writers only with an entry of its own. */
class SqliteTransaction extends Reads implements MetadataTransaction {
  private readonly entries = new Set<number>();
  open = true;

  constructor(protected readonly c: Connection) {
    super();
  }

  protected async ready(): Promise<void> {
    if (!this.open) throw new AirlockError('INTERNAL', 'a metadata transaction was used after it ended');
  }

  /** Refuses a write whose audit entry is not one this transaction appended. */
  private async because(entry: AuditRow, what: string): Promise<void> {
    await this.ready();
    if (!this.entries.has(entry.id))
      throw new AirlockError('INTERNAL', `${what}: its audit entry ${entry.id} was not written in this transaction`);
  }

  async audit(event: AuditEvent): Promise<AuditRow> {
    await this.ready();
    const row = this.c.appendAudit(event);
    this.entries.add(row.id);
    return row;
  }
  async putArtifacts(records: readonly ArtifactRecord[], bundleId: string | null, because: AuditRow): Promise<CommitResult> {
    await this.because(because, 'putArtifacts');
    return this.c.insertArtifacts(records, bundleId);
  }
  async deleteArtifacts(ecosystem: string, keys: readonly string[], because: AuditRow): Promise<number> {
    await this.because(because, 'deleteArtifacts');
    return this.c.deleteArtifacts(ecosystem, keys);
  }
  async setRef(ecosystem: string, name: string, ref: string, value: string | null, because: AuditRow): Promise<void> {
    await this.because(because, 'setRef');
    this.c.setRef(ecosystem, name, ref, value);
  }
  async stageVolume(bundle: Omit<BundleRow, 'status' | 'firstSeenAt' | 'importedAt'>, volume: number): Promise<void> {
    await this.ready();
    this.c.stageVolume(bundle, volume);
  }
  async reopenVolumes(bundleId: string, volumes: readonly number[]): Promise<void> {
    await this.ready();
    this.c.reopenVolumes(bundleId, volumes);
  }
  async abandonBundle(bundleId: string, because: AuditRow): Promise<void> {
    await this.because(because, 'abandonBundle');
    this.c.abandonBundle(bundleId);
  }
  async commitBundle(bundleId: string, records: Iterable<ArtifactRecord>, because: AuditRow): Promise<CommitResult> {
    await this.because(because, 'commitBundle');
    return this.c.commitBundle(bundleId, records);
  }
  async recordImport(rec: ImportRecord): Promise<void> {
    await this.ready();
    this.c.recordImport(rec);
  }
  async sequenceFor(creator: string, lockKey: string): Promise<number> {
    await this.ready();
    return this.c.sequenceFor(creator, lockKey);
  }
  async adoptSequences(creator: string, last: number, byLock: Record<string, number>): Promise<void> {
    await this.ready();
    this.c.adoptSequences(creator, last, byLock);
  }
  async createToken(name: string, role: TokenRole, hash: string, because: AuditRow, parent?: number): Promise<void> {
    await this.because(because, 'createToken');
    this.c.createToken(name, role, hash, parent);
  }
  async revokeToken(name: string, withChildren: boolean, because: AuditRow): Promise<RevokeResult> {
    await this.because(because, 'revokeToken');
    return this.c.revokeToken(name, withChildren);
  }
  async setTrustPolicy(policy: string, source: string, because: AuditRow): Promise<void> {
    await this.because(because, 'setTrustPolicy');
    this.c.setTrustPolicy(policy, source);
  }
}

export class SqliteMetadataStore extends Reads implements MetadataStore {
  protected readonly c: Connection;
  /**
   * The open transaction, settled when it ends. node:sqlite has one connection and a
   * transaction stays open across its function's awaits, so anything else on the connection
   * meanwhile would run inside it (and see, or be undone with, its writes): it waits instead.
   */
  private current: Promise<void> | undefined;
  /** The transaction whose function is running, so that its own calls through `store.meta` run inside it rather than wait for it. */
  private readonly within = new AsyncLocalStorage<SqliteTransaction>();

  constructor(path: string) {
    super();
    this.c = new Connection(openDatabase(path));
  }

  protected async ready(): Promise<void> {
    if (this.within.getStore()?.open) return;
    while (this.current) await this.current;
  }

  async transaction<T>(fn: (tx: MetadataTransaction) => Promise<T>): Promise<T> {
    if (this.within.getStore()?.open) throw new AirlockError('INTERNAL', 'a metadata transaction was opened inside another');
    while (this.current) await this.current;
    let done!: () => void;
    this.current = new Promise<void>((resolve) => {
      done = resolve;
    });
    const tx = new SqliteTransaction(this.c);
    try {
      this.c.db.exec('BEGIN IMMEDIATE');
      try {
        const out = await this.within.run(tx, () => fn(tx));
        tx.open = false;
        this.c.db.exec('COMMIT');
        this.c.ownCommits++;
        return out;
      } catch (e) {
        tx.open = false;
        rollback(this.c.db);
        throw e;
      }
    } finally {
      tx.open = false;
      this.current = undefined;
      done();
    }
  }

  async close(): Promise<void> {
    await this.ready();
    this.c.db.close();
  }
}

/**
 * The query behind listArtifacts, apart so a test can ask SQLite for its plan: one project's
 * rows must come from the (ecosystem, name, key) index, whatever else the ecosystem holds.
 */
export function artifactsQuery(filter: ArtifactFilter): { sql: string; args: string[] } {
  const where: string[] = [];
  const args: string[] = [];
  if (filter.ecosystem !== undefined) {
    where.push('ecosystem = ?');
    args.push(filter.ecosystem);
  }
  if (filter.name !== undefined) {
    where.push('name = ?');
    args.push(filter.name);
  }
  return { sql: `SELECT * FROM artifacts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ecosystem, key`, args };
}

function toBundle(r: Row): BundleRow {
  return {
    id: String(r.id),
    name: String(r.name),
    sequence: Number(r.sequence),
    creator: String(r.creator),
    volumeCount: Number(r.volume_count),
    artifactCount: Number(r.artifact_count),
    totalSize: Number(r.total_size),
    status: r.status as BundleRow['status'],
    firstSeenAt: String(r.first_seen_at),
    importedAt: (r.imported_at as string | null) ?? null,
  };
}

function toAudit(r: Row): AuditRow {
  return {
    id: Number(r.id),
    at: String(r.at),
    actor: String(r.actor),
    action: String(r.action),
    subject: String(r.subject),
    outcome: String(r.outcome),
    detail: String(r.detail),
    prevHash: String(r.prev_hash),
    hash: String(r.hash),
  };
}

function toToken(r: Row): TokenRow {
  return {
    id: Number(r.id),
    name: String(r.name),
    role: r.role as TokenRole,
    createdAt: String(r.created_at),
    revokedAt: (r.revoked_at as string | null) ?? null,
    lastUsedAt: (r.last_used_at as string | null) ?? null,
    parent: (r.parent_name as string | null) ?? null,
  };
}
