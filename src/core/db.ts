import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { AirlockError } from './errors.js';

/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many ran. Never edit
 * a shipped migration: append a new one.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE artifacts (
    id          INTEGER PRIMARY KEY,
    ecosystem   TEXT NOT NULL,
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    version     TEXT NOT NULL,
    digest      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    media_type  TEXT,
    source      TEXT,
    metadata    TEXT NOT NULL DEFAULT '{}',
    bundle_id   TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (ecosystem, key)
  );
  CREATE TABLE artifact_blobs (
    artifact_id INTEGER NOT NULL REFERENCES artifacts(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    digest      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    media_type  TEXT,
    PRIMARY KEY (artifact_id, position)
  );
  CREATE INDEX artifact_blobs_digest ON artifact_blobs(digest);
  CREATE INDEX artifacts_name ON artifacts(ecosystem, name);
  CREATE TABLE bundles (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    sequence     INTEGER NOT NULL,
    creator      TEXT NOT NULL,
    volume_count INTEGER NOT NULL,
    artifact_count INTEGER NOT NULL,
    total_size   INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('staging', 'imported')),
    first_seen_at TEXT NOT NULL,
    imported_at  TEXT
  );
  CREATE TABLE bundle_volumes (
    bundle_id   TEXT NOT NULL REFERENCES bundles(id) ON DELETE CASCADE,
    volume      INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (bundle_id, volume)
  );
  CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    bundle_id   TEXT,
    source      TEXT NOT NULL,
    volumes     TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('imported', 'staged', 'unchanged', 'refused')),
    artifacts_added    INTEGER NOT NULL DEFAULT 0,
    artifacts_existing INTEGER NOT NULL DEFAULT 0,
    message     TEXT,
    at          TEXT NOT NULL
  );
  CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('reader', 'publisher', 'admin')),
    hash        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT,
    last_used_at TEXT
  );
  `,
  `
  CREATE TABLE trust_policies (
    id           INTEGER PRIMARY KEY,
    policy       TEXT NOT NULL,
    source       TEXT NOT NULL,
    installed_at TEXT NOT NULL
  );
  CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    outcome   TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
  );
  CREATE TABLE refs (
    ecosystem  TEXT NOT NULL,
    name       TEXT NOT NULL,
    ref        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (ecosystem, name, ref)
  );
  CREATE TABLE audit_head (
    one   INTEGER PRIMARY KEY CHECK (one = 1),
    count INTEGER NOT NULL,
    hash  TEXT NOT NULL
  );
  `,
  // Who minted a token (npm login hands out tokens for a publisher's), so revoking a token
  // revokes what it minted. Tokens minted before this learn their parent from the audit log,
  // which names the minting token of every token.create (token names are never reused).
  `
  ALTER TABLE tokens ADD COLUMN parent_id INTEGER;
  UPDATE tokens SET parent_id = (
    SELECT p.id FROM audit_log a JOIN tokens p ON a.actor = 'token:' || p.name
    WHERE a.action = 'token.create' AND a.subject = tokens.name AND p.id <> tokens.id
    ORDER BY a.id LIMIT 1
  );
  `,
  // The store's own identity, random, made once: two stores of one user on one host are two
  // bundle creators, each numbering its bundles from 1, without the closed side calling the
  // second a replay of the first.
  `
  CREATE TABLE store_info (
    one        INTEGER PRIMARY KEY CHECK (one = 1),
    id         TEXT NOT NULL,
    created_at TEXT NOT NULL
  );
  INSERT INTO store_info (one, id, created_at) VALUES (1, lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
  `,
  // One project's rows in key order straight from an index: with (ecosystem, name) alone,
  // SQLite preferred the (ecosystem, key) index for the ORDER BY and walked every row of the
  // ecosystem, so a cold page cost O(ecosystem). The new index serves both old uses.
  `
  CREATE INDEX IF NOT EXISTS artifacts_name_key ON artifacts(ecosystem, name, key);
  DROP INDEX IF EXISTS artifacts_name;
  `,
  // A generation per (ecosystem, name) and per ecosystem, moved by every change to the rows a
  // page is made of (artifacts, refs), whichever process commits it: a server keeps a page
  // while its own generation stands, so an import of one project leaves the others cached.
  // Triggers, not application code, so no writer can forget to move them. Both migrations
  // tolerate their own objects, so a store set back to an older schema version upgrades again.
  `
  CREATE TABLE IF NOT EXISTS name_revisions (
    ecosystem  TEXT NOT NULL,
    name       TEXT NOT NULL,
    generation INTEGER NOT NULL,
    PRIMARY KEY (ecosystem, name)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS ecosystem_revisions (
    ecosystem  TEXT PRIMARY KEY,
    generation INTEGER NOT NULL
  ) WITHOUT ROWID;
${['artifacts', 'refs']
  .flatMap((table) =>
    [
      ['insert', 'INSERT', ['new']],
      ['delete', 'DELETE', ['old']],
      ['update', 'UPDATE', ['old', 'new']],
    ].map(
      ([tag, event, rows]) => `  CREATE TRIGGER IF NOT EXISTS ${table}_${tag}_revision AFTER ${event} ON ${table} BEGIN
${(rows as string[])
  .map(
    (row) => `    INSERT INTO name_revisions (ecosystem, name, generation) VALUES (${row}.ecosystem, ${row}.name, 1)
      ON CONFLICT (ecosystem, name) DO UPDATE SET generation = generation + 1;
    INSERT INTO ecosystem_revisions (ecosystem, generation) VALUES (${row}.ecosystem, 1)
      ON CONFLICT (ecosystem) DO UPDATE SET generation = generation + 1;
`,
  )
  .join('')}  END;`,
    ),
  )
  .join('\n')}
  `,
  // The numbers `bundle create` gives a creator's bundles, once in sequences.json beside the
  // database, where an unreadable file started the numbering again at 1 (services/bundle.ts
  // moves an existing file in). `last` is kept apart: a lock's number is never given again.
  `
  CREATE TABLE IF NOT EXISTS creator_sequences (
    creator TEXT PRIMARY KEY,
    last    INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS lock_sequences (
    creator  TEXT NOT NULL,
    lock_key TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    PRIMARY KEY (creator, lock_key)
  ) WITHOUT ROWID;
  `,
];

export function openDatabase(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  // Writers queue behind the store's write lock; the timeout covers readers racing a checkpoint.
  db.exec('PRAGMA busy_timeout = 10000');
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  db.exec('PRAGMA foreign_keys = ON');
  migrate(db);
  return db;
}

function userVersion(db: DatabaseSync): number {
  return (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
}

function migrate(db: DatabaseSync): void {
  if (userVersion(db) === MIGRATIONS.length) return;
  // Re-read inside the transaction: another process may have migrated while we waited.
  transaction(db, () => {
    const current = userVersion(db);
    if (current > MIGRATIONS.length) {
      throw new AirlockError(
        'STORE_CORRUPT',
        `database schema version ${current} is newer than this airlock understands (${MIGRATIONS.length})`,
        { hint: 'upgrade airlock' },
      );
    }
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length}`);
  });
}

/** Runs `fn` in one IMMEDIATE transaction: all of it becomes visible at once, or none. */
export function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (e) {
    rollback(db);
    throw e;
  }
}

/**
 * Rolls back the open transaction, if there still is one. SQLite has already rolled back after
 * some failures (SQLITE_FULL, SQLITE_IOERR); a second ROLLBACK then fails with "no transaction
 * is active" and must not hide the error that matters, which the caller rethrows.
 * (`db.isTransaction` would say so, but Node 22.15 lacks it.)
 */
export function rollback(db: DatabaseSync): void {
  try {
    db.exec('ROLLBACK');
  } catch {
    // nothing to undo
  }
}

/**
 * A database failure as one line naming the file, with the free space beside it, since a full
 * disk shows up as SQLite's "disk I/O error" or "database or disk is full" and nothing more.
 */
export function databaseFailure(path: string, what: string, e: unknown): AirlockError {
  let free: string;
  try {
    const s = statfsSync(dirname(path));
    free = ` (${s.bavail * s.bsize} bytes free)`;
  } catch {
    free = '';
  }
  return new AirlockError('IO_ERROR', `${path}: ${what}: ${e instanceof Error ? e.message : String(e)}${free}`, { cause: e });
}
