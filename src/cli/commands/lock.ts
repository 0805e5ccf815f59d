import type { Command } from 'commander';
import { lockManifest, readLockFile, readManifest, writeLockFile } from '../../services/lock.js';
import { fetchLock } from '../../services/fetch.js';
import { globals, printJson, reporterFor, withStore } from '../common.js';
import { formatBytes } from '../format.js';
import { defaultLockPath, httpClient } from '../inputs.js';
import { dirname, resolve } from 'node:path';

export function register(program: Command): void {
  program
    .command('lock')
    .description('resolve airlock.yaml into airlock.lock: every artifact pinned by digest and size')
    .option('-f, --file <airlock.yaml>', 'the manifest', 'airlock.yaml')
    .option('-o, --out <airlock.lock>', 'where to write the lock (default: airlock.lock beside the manifest)')
    .option('--ca-file <pem>', 'extra CA certificates for HTTPS upstreams')
    .action(async (o: { file: string; out?: string; caFile?: string }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const reporter = reporterFor(cmd);
        const manifest = await readManifest(o.file);
        const http = await httpClient(o.caFile);
        try {
          const lock = await lockManifest(manifest, { store, http, reporter, manifestDir: dirname(resolve(o.file)) });
          const out = o.out ?? defaultLockPath(o.file);
          await writeLockFile(out, lock);
          if (globals(cmd).json) printJson({ lock: out, artifacts: lock.artifacts.length });
          else process.stdout.write(`wrote ${out}: ${lock.artifacts.length} artifact(s)\n`);
        } finally {
          await http.close();
        }
      });
    });

  program
    .command('fetch')
    .description('download every artifact of the lock the store does not have, verifying each digest')
    .option('--lock <airlock.lock>', 'the lockfile', 'airlock.lock')
    .option('--concurrency <n>', 'downloads at once', (v) => Math.max(1, Math.min(64, Number(v) || 4)), 4)
    .option('--ca-file <pem>', 'extra CA certificates for HTTPS upstreams')
    .action(async (o: { lock: string; concurrency: number; caFile?: string }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const lock = await readLockFile(o.lock);
        const http = await httpClient(o.caFile);
        try {
          const s = await fetchLock(lock, { store, http, reporter: reporterFor(cmd), concurrency: o.concurrency });
          if (globals(cmd).json) printJson(s);
          else process.stdout.write(`fetched ${s.downloaded} blob(s), ${formatBytes(s.bytes)}; ${s.present} already in the store\n`);
        } finally {
          await http.close();
        }
      });
    });
}
