import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeManyBundle } from '../helpers/many-bundle.js';
import { AIRLOCK } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** The node options bin/airlock's first line gives (its young-generation size), as a user's shell would. */
function launcherFlags(): string[] {
  const shebang = readFileSync(AIRLOCK, 'utf8').split('\n', 1)[0]!;
  const words = shebang.replace(/^#!\s*/, '').split(/\s+/);
  return words.slice(words.indexOf('node') + 1);
}

/** The process's peak RSS, printed as it exits: the launcher runs in it (this node is new enough). */
const PEAK = `data:text/javascript,process.on('exit',()=>process.stderr.write('peak-rss-kib='+process.resourceUsage().maxRSS+'\\n'))`;

test('bundle verify of a 40,000-artifact manifest (36 MiB) peaks under 200 MiB, as the CLI runs', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'many.airlock');
  await writeManyBundle(file, 40_000);
  const args = [...launcherFlags(), `--import=${PEAK}`, AIRLOCK, '--home', join(dir, 'home'), 'bundle', 'verify', file];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  assert.equal(r.status, 0, r.stderr);
  const kib = Number(/peak-rss-kib=(\d+)/.exec(r.stderr)?.[1]);
  t.diagnostic(`peak RSS ${(kib / 1024).toFixed(0)} MiB`);
  assert.ok(kib < 200 * 1024, `peak RSS ${(kib / 1024).toFixed(0)} MiB`);
});
