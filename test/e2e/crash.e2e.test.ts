import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store.js';
import { silentReporter } from '../../src/core/report.js';
import { createBundle } from '../../src/services/bundle.js';
import { airlock } from '../helpers/cli.js';
import { bytes, seedLock } from '../helpers/seed.js';
import { tempDir } from '../helpers/tmp.js';

const POINTS = ['import:start', 'import:staged-blob', 'import:adopted-blob', 'import:before-commit', 'import:after-commit'];

/**
 * An import killed with SIGKILL at each crash point (before, during and after the blob
 * writes, around the commit) leaves a store `airlock verify` finds clean, and re-running
 * the same import completes it, with the import in the audit log exactly once (the entry
 * commits with the import, so no crash can leave a visible import unaudited).
 */
test('import killed with SIGKILL at any point: verify stays clean and a re-run completes', async (t) => {
  const dir = await tempDir(t);
  const low = await Store.open(join(dir, 'low'));
  const lock = await seedLock(low, {
    'a.bin': bytes(200_000, 1),
    'b.bin': bytes(150_000, 2),
    'big.bin': bytes(500_000, 3),
  });
  const { files } = await createBundle(low, lock, { out: join(dir, 'c.airlock'), split: 260_000, sequence: 1, creator: 't', reporter: silentReporter });
  await low.close();
  assert.ok(files.length >= 3);

  for (const point of POINTS) {
    const home = join(dir, point.replace(':', '-'));
    const killed = await airlock(['--home', home, 'import', ...files], { env: { AIRLOCK_CRASH_AT: point } });
    assert.equal(killed.signal, 'SIGKILL', `${point}: the import was killed (${killed.stderr})`);
    const verify = await airlock(['--home', home, 'verify']);
    assert.equal(verify.code, 0, `${point}: verify after the crash: ${verify.stdout}${verify.stderr}`);
    const rerun = await airlock(['--home', home, 'import', ...files]);
    assert.equal(rerun.code, 0, `${point}: re-run: ${rerun.stderr}`);
    const listed = JSON.parse((await airlock(['--home', home, '--json', 'list'])).stdout) as { key: string }[];
    assert.deepEqual(listed.map((a) => a.key), ['a.bin', 'b.bin', 'big.bin'], point);
    const after = await airlock(['--home', home, 'verify']);
    assert.equal(after.code, 0, `${point}: verify after the re-run: ${after.stdout}${after.stderr}`);
    const log = JSON.parse((await airlock(['--home', home, '--json', 'audit', 'log'])).stdout) as { action: string; outcome: string }[];
    const imported = log.filter((e) => e.action === 'import' && e.outcome === 'imported');
    assert.equal(imported.length, 1, `${point}: one audited import for the one visible bundle: ${JSON.stringify(log)}`);
    const chain = await airlock(['--home', home, 'audit', 'verify']);
    assert.equal(chain.code, 0, `${point}: audit verify: ${chain.stdout}${chain.stderr}`);
  }
});
