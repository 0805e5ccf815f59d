import { join } from 'node:path';
import type { BlobStore } from './blobstore.js';
import { databaseFailure } from './db.js';
import { isAirlockError } from './errors.js';
import { FsBlobStore } from './fs-blobstore.js';
import { ensureDir } from './fsutil.js';
import type { MetadataStore } from './metadata.js';
import { resolveHome } from './paths.js';
import { SqliteMetadataStore } from './sqlite-metadata.js';
import { acquireWriteLock } from './write-lock.js';

/**
 * A store: blobs plus metadata. The low side's cache and the high side's mirror are the same
 * kind of store, so any store can fetch, bundle, import and serve.
 */
export class Store {
  private constructor(
    readonly home: string,
    /** Random, made with the store and kept in its database: what tells two stores of one user@host apart (bundle creators). */
    readonly id: string,
    readonly blobs: BlobStore,
    readonly meta: MetadataStore,
  ) {}

  /** Opens (creating on first use) the store at `home`. Idempotent. */
  static async open(homeOption?: string): Promise<Store> {
    const home = resolveHome(homeOption);
    await ensureDir(join(home, 'blobs'), `airlock home ${home}`);
    await ensureDir(join(home, 'staging'), `airlock home ${home}`);
    const blobs = new FsBlobStore(join(home, 'blobs'), join(home, 'tmp'), join(home, 'staging'));
    const dbPath = join(home, 'airlock.db');
    let meta: SqliteMetadataStore | undefined;
    try {
      meta = new SqliteMetadataStore(dbPath);
      return new Store(home, await meta.storeId(), blobs, meta);
    } catch (e) {
      await meta?.close();
      throw isAirlockError(e) ? e : databaseFailure(dbPath, "cannot open the store's database", e);
    }
  }

  /** Runs `fn` holding the store's cross-process write lock. */
  async withWriteLock<T>(command: string, fn: () => Promise<T>): Promise<T> {
    const timeout = Number(process.env.AIRLOCK_LOCK_TIMEOUT_MS ?? 60_000);
    const release = await acquireWriteLock(join(this.home, 'write.lock'), command, timeout);
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  async close(): Promise<void> {
    await this.meta.close();
  }
}
