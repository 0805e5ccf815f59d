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
  /** `import`, `custody.override`, `trust.set`, `token.create`, `token.revoke`, `pypi.upload`, `oci.push`, `oci.delete`, `verify` */
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
 * The store's metadata behind one narrow interface. The embedded default is node:sqlite; a
 * shared backend (PostgreSQL) is another implementation of this, so every method is async.
 */
export interface MetadataStore {
  /** The store's random identity (32 hex digits), made when the store was. */
  storeId(): Promise<string>;
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
  /**
   * Adds artifacts in one transaction. An artifact whose key exists with the same digest is
   * counted as existing; with a different digest the whole call fails with CONFLICT.
   */
  putArtifacts(records: readonly ArtifactRecord[], bundleId: string | null): Promise<CommitResult>;
  /** Removes artifacts by key in one transaction (their blobs stay: other artifacts may share them); returns how many went. */
  deleteArtifacts(ecosystem: string, keys: readonly string[]): Promise<number>;
  /** Every blob digest any artifact needs, with the artifact that needs it. */
  blobReferences(): AsyncIterable<{ digest: Digest; size: number; artifact: string }>;

  getBundle(id: string): Promise<BundleRow | undefined>;
  listBundles(): Promise<BundleRow[]>;
  /** Records a verified volume; creates the staging bundle row on its first volume. */
  stageVolume(bundle: Omit<BundleRow, 'status' | 'firstSeenAt' | 'importedAt'>, volume: number): Promise<void>;
  receivedVolumes(bundleId: string): Promise<number[]>;
  /** Forgets that these volumes of a staging bundle were received, so they are read again. */
  reopenVolumes(bundleId: string, volumes: readonly number[]): Promise<void>;
  /** Drops a staging bundle's row and its volumes' rows; an imported bundle is never dropped. */
  abandonBundle(bundleId: string): Promise<void>;
  /** Makes a staged bundle's artifacts visible, all together, in one transaction; `records` may be read as they are written. */
  commitBundle(bundleId: string, records: Iterable<ArtifactRecord>): Promise<CommitResult>;
  recordImport(rec: ImportRecord): Promise<void>;
  listImports(): Promise<ImportRow[]>;

  /**
   * Mutable named pointers beside the immutable artifacts (npm dist-tags and deprecations):
   * `value` null removes the ref.
   */
  setRef(ecosystem: string, name: string, ref: string, value: string | null): Promise<void>;
  listRefs(ecosystem: string, name: string): Promise<{ ref: string; value: string; updatedAt: string }[]>;

  /** Installs a trust policy (canonical JSON) and returns the one now in force; older ones stay as history. */
  setTrustPolicy(policy: string, source: string): Promise<void>;
  trustPolicy(): Promise<{ policy: string; source: string; installedAt: string } | undefined>;

  /**
   * Appends to the audit log in one transaction: `entry` gets the previous entry's hash and
   * `hashOf(entry with prevHash)` as its own, so the chain is extended under the same lock.
   */
  appendAudit(entry: Omit<AuditRow, 'id' | 'prevHash' | 'hash'>, hashOf: (e: Omit<AuditRow, 'id' | 'hash'>) => string): Promise<AuditRow>;
  listAudit(): Promise<AuditRow[]>;
  /**
   * The log in order, read a page at a time and handed out a row at a time, so walking a log
   * of any size holds one entry in memory; `since` (an ISO 8601 UTC time as toISOString
   * writes it) skips older entries.
   */
  iterateAudit(opts?: { since?: string }): AsyncIterable<AuditRow>;
  /** How many entries were appended and the last one's hash, kept apart from the rows themselves. */
  auditHead(): Promise<{ count: number; hash: string } | undefined>;

  /** `parent`: the id of the token that minted this one. */
  createToken(name: string, role: TokenRole, hash: string, parent?: number): Promise<void>;
  listTokens(): Promise<TokenRow[]>;
  getToken(name: string): Promise<TokenRow | undefined>;
  /** Revokes the token if active and, with `withChildren`, the active tokens it minted, in one transaction. */
  revokeToken(name: string, withChildren: boolean): Promise<RevokeResult>;
  findActiveToken(hash: string): Promise<TokenRow | undefined>;

  close(): Promise<void>;
}
