import type { ArtifactRecord, StoredArtifact } from './artifact.js';
import type { Digest } from './digest.js';

export type TokenRole = 'reader' | 'publisher' | 'admin';

export interface TokenRow {
  id: number;
  name: string;
  role: TokenRole;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
  /** The token that minted this one (npm login), which takes it along when revoked; null for `token create`. */
  parent: string | null;
}

export interface RevokeResult {
  /** Whether the named token was active until now. */
  revoked: boolean;
  /** Active tokens it had minted, revoked with it. */
  children: string[];
}

export interface BundleRow {
  id: string;
  name: string;
  sequence: number;
  creator: string;
  volumeCount: number;
  artifactCount: number;
  totalSize: number;
  status: 'staging' | 'imported';
  firstSeenAt: string;
  importedAt: string | null;
}

export type ImportOutcome = 'imported' | 'staged' | 'unchanged' | 'refused';

export interface ImportRecord {
  bundleId: string | null;
  source: string;
  volumes: number[];
  outcome: ImportOutcome;
  artifactsAdded?: number;
  artifactsExisting?: number;
  message?: string;
}

export interface ImportRow extends Required<ImportRecord> {
  id: number;
  at: string;
}

/** What a caller records in the audit log; the log adds the time and the chain. */
export interface AuditEvent {
  /** A token's name for the server, `user@host` for the CLI. */
  actor: string;
  /** `import`, `custody.override`, `trust.set`, `token.create`, `token.revoke`, `pypi.upload`, `oci.push`, `oci.delete`, `npm.publish`, `npm.unpublish`, `verify`, ... */
  action: string;
  subject: string;
  outcome: string;
  detail?: Record<string, unknown>;
}

/** One entry of the hash-chained audit log, as the store keeps it. */
export interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  outcome: string;
  /** Canonical JSON of whatever else the event carries. */
  detail: string;
  prevHash: string;
  hash: string;
}

export interface ArtifactFilter {
  ecosystem?: string;
  name?: string;
}

export interface CommitResult {
  added: number;
  existing: number;
}

/**
 * Artifacts (immutable, content-addressed) and the mutable refs beside them: what the
 * ecosystems serve.
 */
export interface ArtifactReader {
  listArtifacts(filter?: ArtifactFilter): Promise<StoredArtifact[]>;
  /**
   * Changes whenever any process commits artifacts, so a server may cache what it rendered
   * from them and stay stateless (replicas sharing a store each see every change).
   */
  revision(): Promise<string>;
  /**
   * A generation that moves whenever any process changes the artifacts or refs of one name
   * (or, without a name, of one ecosystem), and stays otherwise: what a cached page made of
   * them checks once the store's revision has moved, so unrelated changes keep it.
   */
  contentRevision(ecosystem: string, name?: string): Promise<number>;
  /** The distinct artifact names of one ecosystem, sorted (an index's project list). */
  listNames(ecosystem: string): Promise<string[]>;
  getArtifact(ecosystem: string, key: string): Promise<StoredArtifact | undefined>;
  /** Every blob digest any artifact needs, with the artifact that needs it. */
  blobReferences(): AsyncIterable<{ digest: Digest; size: number; artifact: string }>;
  listRefs(ecosystem: string, name: string): Promise<{ ref: string; value: string; updatedAt: string }[]>;
}

/**
 * The writers below take `because`: the audit entry, appended in the same transaction, that
 * records the change. A change without its entry cannot be written, and the two commit or
 * roll back together.
 */
export interface ArtifactWriter {
  /**
   * An artifact whose key exists with the same digest is counted as existing; with a
   * different digest the whole transaction fails with CONFLICT.
   */
  putArtifacts(records: readonly ArtifactRecord[], bundleId: string | null, because: AuditRow): Promise<CommitResult>;
  /** Removes artifacts by key (their blobs stay: other artifacts may share them); returns how many went. */
  deleteArtifacts(ecosystem: string, keys: readonly string[], because: AuditRow): Promise<number>;
  /** Mutable named pointers beside the immutable artifacts (npm dist-tags and deprecations): `value` null removes the ref. */
  setRef(ecosystem: string, name: string, ref: string, value: string | null, because: AuditRow): Promise<void>;
}

/** What the store knows of bundles: received volumes, imports and their history, and the numbers this store gives the bundles it creates. */
export interface BundleLedgerReader {
  getBundle(id: string): Promise<BundleRow | undefined>;
  listBundles(): Promise<BundleRow[]>;
  receivedVolumes(bundleId: string): Promise<number[]>;
  listImports(): Promise<ImportRow[]>;
}

export interface BundleLedgerWriter {
  /** Records a verified volume; creates the staging bundle row on its first volume. Nothing is visible yet, so no entry. */
  stageVolume(bundle: Omit<BundleRow, 'status' | 'firstSeenAt' | 'importedAt'>, volume: number): Promise<void>;
  /** Forgets that these volumes of a staging bundle were received, so they are read again. */
  reopenVolumes(bundleId: string, volumes: readonly number[]): Promise<void>;
  /** Drops a staging bundle's row and its volumes' rows (an operator's act); an imported bundle is never dropped. */
  abandonBundle(bundleId: string, because: AuditRow): Promise<void>;
  /** Makes a staged bundle's artifacts visible, all together; `records` may be read as they are written. */
  commitBundle(bundleId: string, records: Iterable<ArtifactRecord>, because: AuditRow): Promise<CommitResult>;
  /** A line of `history`: what became of one volume file. */
  recordImport(rec: ImportRecord): Promise<void>;
  /**
   * The sequence number `creator`'s bundle of the lock `lockKey` carries: the one it was given
   * before, or the creator's next. Bundling a lock again gives the same number (the same bytes).
   */
  sequenceFor(creator: string, lockKey: string): Promise<number>;
  /** Takes in numbers given elsewhere (an old store's sequences.json): `last` only ever grows, a lock's number is kept. */
  adoptSequences(creator: string, last: number, byLock: Record<string, number>): Promise<void>;
}

/** The hash-chained audit log. */
export interface AuditReader {
  listAudit(): Promise<AuditRow[]>;
  /**
   * The log in order, read a page at a time and handed out a row at a time, so walking a log
   * of any size holds one entry in memory; `since` (an ISO 8601 UTC time as toISOString
   * writes it) skips older entries.
   */
  iterateAudit(opts?: { since?: string }): AsyncIterable<AuditRow>;
  /** How many entries were appended and the last one's hash, kept apart from the rows themselves. */
  auditHead(): Promise<{ count: number; hash: string } | undefined>;
}

export interface AuditWriter {
  /**
   * Appends an event to the chain (the previous entry's hash, then its own, by
   * core/audit-entry's entryHash) in this transaction, and returns the entry the writers
   * take as their `because`.
   */
  audit(event: AuditEvent): Promise<AuditRow>;
}

export interface TokenReader {
  listTokens(): Promise<TokenRow[]>;
  getToken(name: string): Promise<TokenRow | undefined>;
  /** The active token with this hash; notes when it was last used. */
  findActiveToken(hash: string): Promise<TokenRow | undefined>;
}

export interface TokenWriter {
  /** `parent`: the id of the token that minted this one. A name in use fails with CONFLICT. */
  createToken(name: string, role: TokenRole, hash: string, because: AuditRow, parent?: number): Promise<void>;
  /** Revokes the token if active and, with `withChildren`, the active tokens it minted. */
  revokeToken(name: string, withChildren: boolean, because: AuditRow): Promise<RevokeResult>;
}

export interface TrustReader {
  trustPolicy(): Promise<{ policy: string; source: string; installedAt: string } | undefined>;
}

export interface TrustWriter {
  /** Installs a trust policy (canonical JSON); older ones stay as history. */
  setTrustPolicy(policy: string, source: string, because: AuditRow): Promise<void>;
}

/** Everything a reader of the store may ask. */
export interface MetadataReader extends ArtifactReader, BundleLedgerReader, AuditReader, TokenReader, TrustReader {
  /** The store's random identity (32 hex digits), made when the store was. */
  storeId(): Promise<string>;
}

/** One unit of work: its reads see its own writes, and all of it commits or none. */
export interface MetadataTransaction extends MetadataReader, ArtifactWriter, BundleLedgerWriter, AuditWriter, TokenWriter, TrustWriter {}

/**
 * The store's metadata, composed of the concerns above. The embedded default is node:sqlite;
 * a shared backend (PostgreSQL) is another implementation of this, so every method is async.
 * Every write goes through `transaction`, which is also the only way to the audit log.
 */
export interface MetadataStore extends MetadataReader {
  /**
   * Runs `fn` as one transaction: committed when it resolves, rolled back when it throws (the
   * throw passes through). Transactions run one at a time; reads outside one wait for it, so
   * nobody sees half of one. `fn` reaches the store only through `tx`.
   */
  transaction<T>(fn: (tx: MetadataTransaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The usual unit of work: one event, appended first, and the writes it records. */
export function audited<T>(
  meta: MetadataStore,
  event: AuditEvent,
  fn: (tx: MetadataTransaction, because: AuditRow) => Promise<T>,
): Promise<T> {
  return meta.transaction(async (tx) => fn(tx, await tx.audit(event)));
}
