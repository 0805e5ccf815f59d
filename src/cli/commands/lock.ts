import type { Command } from 'commander';
import type { Lockfile } from '../../manifest/lockfile.js';
import { lockManifest, readLockFile, readManifest, writeLockFile } from '../../services/lock.js';
import { fetchLock } from '../../services/fetch.js';
import { globals, printJson, reporterFor, wholeNumberIn, withStore } from '../common.js';
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
    .option('--explain <name>', 'then show why each file of this project was chosen (versions, targets, who required it)')
    .action(async (o: { file: string; out?: string; caFile?: string; explain?: string }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const reporter = reporterFor(cmd);
        const manifest = await readManifest(o.file);
        const http = await httpClient(o.caFile);
        try {
          const out = o.out ?? defaultLockPath(o.file);
          const lock = await lockManifest(
            manifest,
            { store, http, reporter, manifestDir: dirname(resolve(o.file)) },
            { manifest: o.file, lock: out },
          );
          await writeLockFile(out, lock);
          if (globals(cmd).json) {
            printJson({ lock: out, artifacts: lock.artifacts.length, ...(o.explain ? { explain: explain(lock, o.explain) } : {}) });
          } else {
            process.stdout.write(`wrote ${out}: ${lock.artifacts.length} artifact(s)\n`);
            if (o.explain) printExplanation(o.explain, explain(lock, o.explain));
          }
        } finally {
          await http.close();
        }
      });
    });

  program
    .command('fetch')
    .description('download every artifact of the lock the store does not have, verifying each digest')
    .option('--lock <airlock.lock>', 'the lockfile', 'airlock.lock')
    .option('--concurrency <n>', 'downloads at once (1 to 64)', wholeNumberIn('--concurrency', 1, 64), 4)
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

interface Explanation {
  key: string;
  version: string;
  targets: string[];
  requiredBy: string[];
  asked: string[];
  passedOver: string[];
  /** Why the lock leaves it out; absent for what it carries. */
  excluded?: string;
}

/** The lock's own record of a project's choice: nothing is resolved again. */
function explain(lock: Lockfile, name: string): Explanation[] {
  const wanted = name.replace(/[-_.]+/g, '-').toLowerCase();
  const named = (a: { name: string }) => a.name === name || a.name === wanted;
  const carried = lock.artifacts.filter(named).map((a) => {
    const m = a.metadata as Partial<Omit<Explanation, 'key' | 'version'>>;
    return {
      key: `${a.ecosystem}:${a.key}`,
      version: a.version,
      targets: m.targets ?? [],
      requiredBy: m.requiredBy ?? [],
      asked: m.asked ?? [],
      passedOver: m.passedOver ?? [],
    };
  });
  const left = (lock.excluded ?? []).filter(named).map((e) => ({
    key: `${e.ecosystem}:${e.key}`,
    version: e.version,
    targets: [],
    requiredBy: e.requiredBy,
    asked: [],
    passedOver: [],
    excluded: e.reason,
  }));
  return [...carried, ...left];
}

function printExplanation(name: string, rows: Explanation[]): void {
  if (rows.length === 0) {
    process.stdout.write(`${name}: not in the lock (nothing requires it for these targets)\n`);
    return;
  }
  for (const r of rows) {
    if (r.excluded !== undefined) {
      process.stdout.write(
        `${r.key}: not carried: ${r.excluded}${r.requiredBy.length ? `; required by ${r.requiredBy.join(', ')}` : ''}\n`,
      );
      continue;
    }
    process.stdout.write(`${r.key} (version ${r.version || '-'})\n`);
    if (r.targets.length) process.stdout.write(`  for: ${r.targets.join('; ')}\n`);
    if (r.requiredBy.length) process.stdout.write(`  required by: ${r.requiredBy.join(', ')}\n`);
    for (const a of r.asked) process.stdout.write(`  asked as: ${a}\n`);
    for (const p of r.passedOver) process.stdout.write(`  newer, not chosen: ${p}\n`);
  }
}
