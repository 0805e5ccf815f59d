import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { AirlockError } from '../core/errors.js';
import type { HttpClient } from '../core/http.js';
import type { Reporter } from '../core/report.js';
import type { Store } from '../core/store.js';
import type { Lockfile } from '../manifest/lockfile.js';
import { fetchLock } from '../services/fetch.js';
import { lockManifest, readLockFile, readManifest } from '../services/lock.js';
import { VERSION } from './version.js';

/**
 * The HTTP client every connected-side command uses: `--ca-file` or AIRLOCK_CA_FILE adds CAs.
 * Loaded on demand, so the closed side's commands (import, serve) never load an HTTP client.
 */
export async function httpClient(caFile?: string): Promise<HttpClient> {
  const { HttpClient } = await import('../core/http.js');
  const ca = caFile ?? process.env.AIRLOCK_CA_FILE;
  return new HttpClient({ userAgent: `airlock/${VERSION}`, ...(ca ? { caFile: ca } : {}) });
}

export interface LockInputs {
  file?: string | undefined;
  lock?: string | undefined;
  caFile?: string | undefined;
  reporter: Reporter;
  /** Download whatever the store lacks before returning. */
  fetch: boolean;
}

/** `--lock` as given; else `-f` resolved now; else airlock.lock, else airlock.yaml, in this directory. */
export async function loadLockOrManifest(store: Store, o: LockInputs): Promise<Lockfile> {
  if (o.file && o.lock) throw new AirlockError('USAGE', 'give either -f/--file or --lock, not both');
  const http = await httpClient(o.caFile);
  try {
    let lock: Lockfile;
    const lockPath = o.lock ?? (!o.file && existsSync('airlock.lock') ? 'airlock.lock' : undefined);
    if (lockPath) lock = await readLockFile(lockPath);
    else {
      const file = o.file ?? 'airlock.yaml';
      const manifest = await readManifest(file);
      lock = await lockManifest(
        manifest,
        { store, http, reporter: o.reporter, manifestDir: dirname(resolve(file)) },
        { manifest: file, lock: defaultLockPath(file) },
      );
    }
    if (o.fetch) await fetchLock(lock, { store, http, reporter: o.reporter });
    return lock;
  } finally {
    await http.close();
  }
}

export function defaultLockPath(manifestFile: string): string {
  return join(dirname(manifestFile), 'airlock.lock');
}
