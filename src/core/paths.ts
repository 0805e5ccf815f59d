import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The store's home: `--home`, then `AIRLOCK_HOME`, then the XDG data dir. */
export function resolveHome(explicit?: string): string {
  if (explicit) return resolve(explicit);
  if (process.env.AIRLOCK_HOME) return resolve(process.env.AIRLOCK_HOME);
  const xdg = process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share');
  return join(xdg, 'airlock');
}
