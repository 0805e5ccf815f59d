import { open, readFile, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { AirlockError } from './errors.js';

interface Holder {
  pid: number;
  host: string;
  command: string;
  since: string;
}

/** Whether a process on this host still runs (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function olderThan(path: string, ms: number): Promise<boolean> {
  return stat(path).then(
    (s) => Date.now() - s.mtimeMs > ms,
    () => false,
  );
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}

/**
 * A cross-process write lock: one writer at a time per store, so blob moves and database
 * commits of two commands never interleave. Readers (serve, list) never take it. A lock left
 * by a killed process on this host is detected by its pid and taken over.
 */
export async function acquireWriteLock(path: string, command: string, timeoutMs: number): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  const me: Holder = { pid: process.pid, host: hostname(), command, since: new Date().toISOString() };
  for (;;) {
    try {
      const fh = await open(path, 'wx', 0o644);
      try {
        await fh.writeFile(JSON.stringify(me));
        await fh.sync();
      } finally {
        await fh.close();
      }
      return async () => {
        const h = await readHolder(path);
        if (h?.pid === me.pid && h.host === me.host) await rm(path, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = await readHolder(path);
    if ((holder && holder.host === me.host && !processAlive(holder.pid)) || (!holder && (await olderThan(path, 10_000)))) {
      // Its holder died, or died between creating the file and writing its name into it.
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      const who = holder ? `pid ${holder.pid} on ${holder.host} (${holder.command}, since ${holder.since})` : 'another process';
      throw new AirlockError('STORE_LOCKED', `the store is locked for writing by ${who}`, {
        hint: `wait for it to finish, or remove ${path} if that process is gone`,
      });
    }
    await sleep(100);
  }
}
