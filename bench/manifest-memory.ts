/**
 * Peak RSS of `bundle verify` and `import` for a bundle whose manifest lists many artifacts
 * (BENCH_ENTRIES, default 40,000), each with its own small blob and npm-like metadata
 * (test/helpers/many-bundle.ts writes it). Not part of `npm run bench`; run it as
 * `node dist/bench/manifest-memory.js` (AIRLOCK=path/to/bin/airlock measures another build).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeManyBundle } from '../test/helpers/many-bundle.js';
import { AIRLOCK as OWN } from './util.js';

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 40_000);
const AIRLOCK = process.env.AIRLOCK ?? OWN;

function peak(args: string[]): { mib: number; seconds: number } {
  const r = spawnSync('/usr/bin/time', ['-v', AIRLOCK, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0)
    throw new Error(`airlock ${args.join(' ')} failed: ${r.stderr.split('\n').find((l) => l.includes('error')) ?? r.stderr}`);
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)![1]);
  const [, m, s] = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\d+):([\d.]+)/.exec(r.stderr)!;
  return { mib: kb / 1024, seconds: Number(m) * 60 + Number(s) };
}

const dir = await mkdtemp(join(tmpdir(), 'airlock-manifest-memory-'));
try {
  const file = join(dir, 'many.airlock');
  const { manifestBytes } = await writeManyBundle(file, ENTRIES);
  console.log(`${ENTRIES} artifacts, manifest ${(manifestBytes / 2 ** 20).toFixed(1)} MiB, ${AIRLOCK}`);
  const verify = peak(['--home', join(dir, 'home'), 'bundle', 'verify', file]);
  console.log(`bundle verify: peak RSS ${verify.mib.toFixed(0)} MiB, ${verify.seconds.toFixed(1)} s`);
  const imported = peak(['--home', join(dir, 'home'), 'import', file]);
  console.log(`import:        peak RSS ${imported.mib.toFixed(0)} MiB, ${imported.seconds.toFixed(1)} s`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
