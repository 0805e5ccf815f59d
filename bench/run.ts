/**
 * Bundle create and import of ~1 GiB of files, each against a peer on the same bytes in the
 * same run: `tar cf - DIR | tee OUT | sha256sum` for create, `tar xf` + `sha256sum` for
 * import. Prints the median of 3 alternating runs, the ratios, and airlock's peak RSS.
 * BENCH_MB sets the size (default 1024). Never run in CI; timings are never asserted.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { HashingStream } from '../src/core/digest.js';
import { Store } from '../src/core/store.js';
import { writeLockFile } from '../src/services/lock.js';
import type { Lockfile } from '../src/manifest/lockfile.js';
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { AIRLOCK, type Measured, measure, median } from './util.js';

const MB = Number(process.env.BENCH_MB ?? 1024);
const RUNS = 3;
/** About 30% of the data, so the set has several volumes and the half-size file is chunked. */
const SPLIT = `${Math.round(MB * 0.3)}Mi`;

/** Incompressible, non-repeating data: one half-size file (chunked by --split) and several smaller ones. */
async function makeData(dir: string): Promise<string[]> {
  const sizes = [MB / 2, ...Array.from({ length: 7 }, () => MB / 14)].map((m) => Math.floor(m * 2 ** 20));
  const names: string[] = [];
  for (const [i, size] of sizes.entries()) {
    const name = `file-${i}.bin`;
    const out = createWriteStream(join(dir, name));
    for (let left = size; left > 0; left -= 1 << 20) {
      if (!out.write(randomBytes(Math.min(left, 1 << 20)))) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    names.push(name);
  }
  return names;
}

async function seed(home: string, dataDir: string, names: string[], lockPath: string): Promise<void> {
  const store = await Store.open(home);
  const artifacts = [];
  for (const name of names) {
    const h = new HashingStream();
    await pipeline(createReadStream(join(dataDir, name)), h, async (s: AsyncIterable<Buffer>) => {
      for await (const _ of s);
    });
    const blob = await store.blobs.put(createReadStream(join(dataDir, name)), name, { digest: h.digest() });
    artifacts.push({
      ecosystem: 'files',
      key: name,
      name,
      version: '',
      digest: blob.digest,
      size: blob.size,
      metadata: {},
      blobs: [{ ...blob, url: `http://upstream.invalid/${name}` }],
    });
  }
  await store.close();
  const lock: Lockfile = { lockVersion: 1, name: 'bench', target: { platforms: ['linux/amd64'], python: [] }, artifacts };
  await writeLockFile(lockPath, lock);
}

interface Row {
  operation: string;
  airlockS: number;
  peerS: number;
  ratio: number;
  peakRssMb: number;
  target?: number;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json') || process.env.BENCH_JSON === '1';
  const root = await mkdtemp(join(tmpdir(), 'airlock-bench-'));
  try {
    const data = join(root, 'data');
    await mkdir(data);
    const names = await makeData(data);
    const low = join(root, 'low');
    const lock = join(root, 'airlock.lock');
    await seed(low, data, names, lock);

    const out = join(root, 'out.airlock');
    const tarOut = join(root, 'out.tar');
    const split = join(root, 'split.airlock');
    const rows: Row[] = [];
    const pair = async (
      operation: string,
      target: number | undefined,
      airlockRun: () => Promise<Measured>,
      peerRun: () => Promise<Measured>,
      between: () => Promise<void>,
    ): Promise<void> => {
      const a: Measured[] = [];
      const p: Measured[] = [];
      for (let i = 0; i < RUNS; i++) {
        await between();
        a.push(await airlockRun());
        await between();
        p.push(await peerRun());
      }
      const airlockS = median(a.map((m) => m.seconds));
      const peerS = median(p.map((m) => m.seconds));
      rows.push({
        operation,
        airlockS,
        peerS,
        ratio: airlockS / peerS,
        peakRssMb: Math.max(...a.map((m) => m.peakRssMb ?? 0)),
        ...(target ? { target } : {}),
      });
    };

    await pair(
      `bundle create (${MB} MiB)`,
      1.3,
      () => measure(AIRLOCK, ['--home', low, 'bundle', 'create', '--lock', lock, '-o', out], true),
      () => measure('bash', ['-c', `tar cf - -C ${data} . | tee ${tarOut} | sha256sum > /dev/null`], false),
      async () => {
        await rm(out, { force: true });
        await rm(tarOut, { force: true });
      },
    );
    // Leave one bundle and one tar for the import pair.
    await measure(AIRLOCK, ['--home', low, 'bundle', 'create', '--lock', lock, '-o', out], false);
    await measure('bash', ['-c', `tar cf ${tarOut} -C ${data} .`], false);
    const high = join(root, 'high');
    const x = join(root, 'x');
    await pair(
      `import (${MB} MiB)`,
      1.3,
      () => measure(AIRLOCK, ['--home', high, 'import', out], true),
      () => measure('bash', ['-c', `tar xf ${tarOut} -C ${x} && sha256sum ${x}/* > /dev/null`], false),
      async () => {
        await rm(high, { recursive: true, force: true });
        await rm(x, { recursive: true, force: true });
        await mkdir(x);
      },
    );

    const splitFiles = async (): Promise<string[]> =>
      (await readdir(root)).filter((f) => f.startsWith('split.vol-')).map((f) => join(root, f));
    await pair(
      `bundle create --split ${SPLIT}`,
      undefined,
      () => measure(AIRLOCK, ['--home', low, 'bundle', 'create', '--lock', lock, '-o', split, '--split', SPLIT], true),
      () => measure('bash', ['-c', `tar cf - -C ${data} . | tee ${tarOut} | sha256sum > /dev/null`], false),
      async () => {
        for (const f of await splitFiles()) await rm(f, { force: true });
      },
    );
    for (const f of await splitFiles()) await rm(f, { force: true });
    await measure(AIRLOCK, ['--home', low, 'bundle', 'create', '--lock', lock, '-o', split, '--split', SPLIT], false);
    const volumes = await splitFiles();
    await pair(
      `import ${volumes.length} volumes`,
      undefined,
      () => measure(AIRLOCK, ['--home', high, 'import', ...volumes], true),
      () => measure('bash', ['-c', `tar xf ${tarOut} -C ${x} && sha256sum ${x}/* > /dev/null`], false),
      async () => {
        await rm(high, { recursive: true, force: true });
        await rm(x, { recursive: true, force: true });
        await mkdir(x);
      },
    );

    if (json) {
      process.stdout.write(`${JSON.stringify({ mb: MB, runs: RUNS, rows }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`airlock bench: ${MB} MiB in ${names.length} files, median of ${RUNS} runs each\n\n`);
    process.stdout.write(
      `${'operation'.padEnd(30)} ${'airlock s'.padStart(9)} ${'peer s'.padStart(8)} ${'ratio'.padStart(6)} ${'peak RSS MB'.padStart(12)}  verdict\n`,
    );
    for (const r of rows) {
      const verdicts = [
        r.target === undefined ? '' : r.ratio <= r.target ? `PASS ≤${r.target}×` : `MISS >${r.target}×`,
        r.peakRssMb <= 200 ? 'RSS PASS' : 'RSS MISS',
      ].filter(Boolean);
      process.stdout.write(
        `${r.operation.padEnd(30)} ${r.airlockS.toFixed(2).padStart(9)} ${r.peerS.toFixed(2).padStart(8)} ${r.ratio.toFixed(2).padStart(6)} ${r.peakRssMb.toFixed(0).padStart(12)}  ${verdicts.join(', ')}\n`,
      );
    }
    process.stdout.write('\npeers: create = tar cf - DIR | tee OUT | sha256sum; import = tar xf OUT + sha256sum of every file\n');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
