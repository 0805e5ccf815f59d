import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentReporter } from '../../src/core/report.js';
import { Store } from '../../src/core/store.js';
import { createBundle } from '../../src/services/bundle.js';
import { airlock } from '../helpers/cli.js';
import { bytes, seedLock } from '../helpers/seed.js';
import { tempDir } from '../helpers/tmp.js';

test('airlock import --abandon drops a staged volume set, named by a volume file or by the bundle id', async (t) => {
  const dir = await tempDir(t);
  const low = await Store.open(join(dir, 'low'));
  t.after(() => low.close());
  const lock = await seedLock(low, { 'a.bin': bytes(150_000, 1), 'b.bin': bytes(150_000, 2) });
  const w = await createBundle(low, lock, {
    sequence: 1,
    creator: 'test@host',
    reporter: silentReporter,
    out: join(dir, 's.airlock'),
    split: 200_000,
  });
  const home = ['--home', join(dir, 'high')];

  assert.equal((await airlock([...home, 'import', '--abandon', w.files[0]!, w.files[1]!])).code, 2);
  assert.equal((await airlock([...home, 'import'])).code, 2);

  const staged = await airlock([...home, 'import', w.files[0]!]);
  assert.equal(staged.code, 0, staged.stderr);
  const dropped = await airlock([...home, 'import', '--abandon', w.files[0]!]);
  assert.equal(dropped.code, 0, dropped.stderr);
  assert.equal(dropped.stdout, `bundle test ${w.bundleId}: staging set abandoned (volume(s) 1 dropped)\n`);
  assert.deepEqual(await readdir(join(dir, 'high', 'staging')), []);
  const events = JSON.parse((await airlock([...home, '--json', 'audit', 'log'])).stdout) as { action: string; outcome: string }[];
  assert.deepEqual(events.at(-1) && [events.at(-1)!.action, events.at(-1)!.outcome], ['import.abandon', 'abandoned']);

  await airlock([...home, 'import', w.files[1]!]);
  const byId = await airlock([...home, '--json', 'import', '--abandon', w.bundleId]);
  assert.equal(byId.code, 0, byId.stderr);
  assert.deepEqual(JSON.parse(byId.stdout), { bundleId: w.bundleId, name: 'test', volumes: [2] });
  const none = await airlock([...home, 'import', '--abandon', w.bundleId]);
  assert.equal(none.code, 1);
  assert.equal(none.stderr, `airlock: error: bundle ${w.bundleId} is not staged in this store\n`);
});
