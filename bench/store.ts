/**
 * The store's own commands at scale. `airlock verify` over N small blobs (and over a few
 * large ones) against `sha256sum` of the same files in the same run; `airlock list --json`
 * and the table at BENCH_LIST_N artifacts (default 150 000), for their peak RSS. Part of
 * `npm run bench`, or alone: `node dist/bench/store.js`. Timings are never
 * asserted.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArtifactRecord } from '../src/core/artifact.js';
import type { Digest } from '../src/core/digest.js';
import type { FsBlobStore } from '../src/core/fs-blobstore.js';
import { type AuditEvent, audited } from '../src/core/metadata.js';
import { Store } from '../src/core/store.js';
import { AIRLOCK, type Measured, measure, median } from './util.js';

const RUNS = 3;
const SMALL = (process.env.BENCH_VERIFY_N ?? '1000,5000').split(',').map(Number);
/** Large blobs: how many, and MiB each. */
const LARGE = { count: 4, mb: Number(process.env.BENCH_VERIFY_LARGE_MB ?? 64) };
const LIST_N = Number(process.env.BENCH_LIST_N ?? 150_000);

interface VerifyRow {
  operation: string;
  airlockS: number;
  peerS: number;
  ratio: number;
  peakRssMb: number;
  target: number;
}

interface ListRow {
  operation: string;
  seconds: number;
  peakRssMb: number;
}

export interface StoreBench {
  startupS: number;
  verify: VerifyRow[];
  list: ListRow[];
}

/**
 * Writes blobs straight into the store's layout and one `files` artifact per blob into its
 * database: going through import would bench import, and fsync every blob.
 */
const SEEDED: AuditEvent = { actor: 'local:bench', action: 'bench.seed', subject: 'artifacts', outcome: 'written' };

async function seedBlobs(home: string, sizes: number[]): Promise<void> {
  const store = await Store.open(home);
  try {
    const records: ArtifactRecord[] = [];
    for (const [i, size] of sizes.entries()) {
      const body = randomBytes(size);
      const digest: Digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
      const path = (store.blobs as FsBlobStore).pathOf(digest);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, body);
      const key = `blob-${String(i).padStart(7, '0')}.bin`;
      records.push({ ecosystem: 'files', key, name: key, version: '', digest, size, metadata: {}, blobs: [{ digest, size }] });
    }
    await audited(store.meta, SEEDED, (tx, because) => tx.putArtifacts(records, null, because));
  } finally {
    await store.close();
  }
}

/**
 * `n` artifact rows with no blobs behind them (list reads only the database), inserted through
 * the metadata store in transactions of 10 000, shaped like a PyPI mirror's wheels.
 */
async function seedRows(home: string, n: number): Promise<void> {
  const store = await Store.open(home);
  try {
    for (let at = 0; at < n; at += 10_000) {
      const records: ArtifactRecord[] = [];
      for (let i = at; i < Math.min(n, at + 10_000); i++) {
        const name = `project-${String(Math.floor(i / 10)).padStart(6, '0')}`;
        const version = `1.${i % 10}.0`;
        const digest: Digest = `sha256:${createHash('sha256').update(String(i)).digest('hex')}`;
        const key = `${name}-${version}-py3-none-any.whl`;
        const size = 10_000 + (i % 90_000);
        records.push({
          ecosystem: 'pypi',
          key,
          name,
          version,
          digest,
          size,
          metadata: { requiresPython: '>=3.9' },
          blobs: [{ digest, size }],
        });
      }
      await audited(store.meta, SEEDED, (tx, because) => tx.putArtifacts(records, null, because));
    }
  } finally {
    await store.close();
  }
}

/** Deterministic small-blob sizes from 512 B to 64 KiB, as wheels, npm tarballs and manifests are. */
function smallSizes(n: number): number[] {
  return Array.from({ length: n }, (_, i) => 512 + ((i * 2_654_435_761) % (64 * 1024 - 512)));
}

async function pair(
  operation: string,
  target: number,
  airlockRun: () => Promise<Measured>,
  peerRun: () => Promise<Measured>,
): Promise<VerifyRow> {
  const a: Measured[] = [];
  const p: Measured[] = [];
  for (let i = 0; i < RUNS; i++) {
    a.push(await airlockRun());
    p.push(await peerRun());
  }
  const airlockS = median(a.map((m) => m.seconds));
  const peerS = median(p.map((m) => m.seconds));
  return { operation, airlockS, peerS, ratio: airlockS / peerS, peakRssMb: Math.max(...a.map((m) => m.peakRssMb ?? 0)), target };
}

export async function storeBench(): Promise<StoreBench> {
  const root = await mkdtemp(join(tmpdir(), 'airlock-bench-store-'));
  try {
    const empty = join(root, 'empty');
    await seedBlobs(empty, []);
    const startups: number[] = [];
    for (let i = 0; i < RUNS; i++) startups.push((await measure(AIRLOCK, ['--home', empty, 'verify'], false)).seconds);
    const startupS = median(startups);

    const verify: VerifyRow[] = [];
    const cases: [string, number[]][] = [
      ...SMALL.map((n): [string, number[]] => [`verify ${n} small blobs`, smallSizes(n)]),
      [`verify ${LARGE.count} × ${LARGE.mb} MiB`, Array.from({ length: LARGE.count }, () => LARGE.mb << 20)],
    ];
    for (const [operation, sizes] of cases) {
      const home = join(root, `verify-${sizes.length}-${sizes[0]}`);
      await seedBlobs(home, sizes);
      const blobs = join(home, 'blobs', 'sha256');
      verify.push(
        await pair(
          operation,
          2,
          () => measure(AIRLOCK, ['--home', home, 'verify'], true),
          () => measure('bash', ['-c', `find ${blobs} -type f -print0 | xargs -0 sha256sum > /dev/null`], false),
        ),
      );
      await rm(home, { recursive: true, force: true });
    }

    const list: ListRow[] = [];
    const home = join(root, 'list');
    await seedRows(home, LIST_N);
    for (const [operation, args] of [
      [`list --json (${LIST_N} artifacts)`, ['--home', home, '--json', 'list']],
      [`list (${LIST_N} artifacts)`, ['--home', home, 'list']],
    ] as const) {
      const runs: Measured[] = [];
      for (let i = 0; i < RUNS; i++) runs.push(await measure(AIRLOCK, [...args], true));
      list.push({ operation, seconds: median(runs.map((m) => m.seconds)), peakRssMb: Math.max(...runs.map((m) => m.peakRssMb ?? 0)) });
    }
    return { startupS, verify, list };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export function printStoreBench(r: StoreBench): void {
  process.stdout.write(
    `\nstore commands (median of ${RUNS} runs; airlock's start-up alone, \`verify\` of an empty store: ${r.startupS.toFixed(2)} s)\n\n`,
  );
  process.stdout.write(
    `${'operation'.padEnd(30)} ${'airlock s'.padStart(9)} ${'peer s'.padStart(8)} ${'ratio'.padStart(6)} ${'net ratio'.padStart(9)} ${'peak RSS MB'.padStart(12)}  verdict\n`,
  );
  for (const v of r.verify) {
    const net = Math.max(v.airlockS - r.startupS, 0) / v.peerS;
    const verdict = `${v.ratio <= v.target ? 'PASS' : 'MISS'} ≤${v.target}×`;
    process.stdout.write(
      `${v.operation.padEnd(30)} ${v.airlockS.toFixed(2).padStart(9)} ${v.peerS.toFixed(2).padStart(8)} ${v.ratio.toFixed(2).padStart(6)} ${net.toFixed(2).padStart(9)} ${v.peakRssMb.toFixed(0).padStart(12)}  ${verdict}\n`,
    );
  }
  for (const l of r.list) {
    process.stdout.write(
      `${l.operation.padEnd(30)} ${l.seconds.toFixed(2).padStart(9)} ${'-'.padStart(8)} ${'-'.padStart(6)} ${'-'.padStart(9)} ${l.peakRssMb.toFixed(0).padStart(12)}  ${l.peakRssMb <= 200 ? 'RSS PASS' : 'RSS MISS'}\n`,
    );
  }
  process.stdout.write('\npeer: find BLOBS -type f -print0 | xargs -0 sha256sum; net ratio: airlock less its start-up, over the peer\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await storeBench();
  if (process.argv.includes('--json') || process.env.BENCH_JSON === '1') process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
  else printStoreBench(r);
}
