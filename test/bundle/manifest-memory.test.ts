import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeManyBundle } from '../helpers/many-bundle.js';
import { tempDir } from '../helpers/tmp.js';

const SERVICES = fileURLToPath(new URL('../../src/services/bundle.js', import.meta.url));
const REPORT = fileURLToPath(new URL('../../src/core/report.js', import.meta.url));

test('bundle verify of a 40,000-artifact manifest stays well under what parsing it whole cost (about 350 MiB)', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'many.airlock');
  await writeManyBundle(file, 40_000);
  // A fresh process, so the peak is verify's alone.
  const script = `const { verifyBundles } = await import(${JSON.stringify(SERVICES)}); const { silentReporter } = await import(${JSON.stringify(REPORT)});
    await verifyBundles([${JSON.stringify(file)}], silentReporter); process.stdout.write(String(process.resourceUsage().maxRSS));`;
  const kib = Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
  t.diagnostic(`peak RSS ${(kib / 1024).toFixed(0)} MiB`);
  assert.ok(kib < 280 * 1024, `peak RSS ${(kib / 1024).toFixed(0)} MiB`);
});
