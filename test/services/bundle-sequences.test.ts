import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { silentReporter } from '../../src/core/report.js';
import { Store } from '../../src/core/store.js';
import { createBundle } from '../../src/services/bundle.js';
import { seedLock } from '../helpers/seed.js';
import { tempDir } from '../helpers/tmp.js';

async function world(t: TestContext) {
  const dir = await tempDir(t);
  const store = await Store.open(join(dir, 'home'));
  t.after(() => store.close());
  let n = 0;
  const bundle = async (name: string, creator = 'alice@host') => {
    const lock = await seedLock(store, { [`${name}.txt`]: Buffer.from(`${name}\n`) }, name);
    return (await createBundle(store, lock, { out: join(dir, `${name}-${++n}.airlock`), creator, reporter: silentReporter })).manifest
      .sequence;
  };
  return { dir, store, bundle };
}

test("bundle create: a store's sequences.json is moved into the database once, numbers carried on", async (t) => {
  const { store, bundle } = await world(t);
  const old = join(store.home, 'sequences.json');
  await writeFile(old, `${JSON.stringify({ 'alice@host': { last: 7, byLock: { 'kept x': 4 } } })}\n`);
  assert.equal(await bundle('a'), 8);
  await assert.rejects(stat(old), { code: 'ENOENT' }, 'the file is not read again');
  assert.match(await readFile(`${old}.migrated`, 'utf8'), /"last": ?7/);
  assert.equal(await bundle('b'), 9);
  assert.equal(await bundle('a'), 8, 'the same lock keeps its number (the same bytes)');
  assert.equal(await bundle('c', 'bob@host'), 1, 'another creator counts on its own');
  assert.equal(await bundle('d'), 10);
});

for (const [what, body] of <[string, string][]>[
  ['not JSON', '{"alice@host": {"last": 3,'],
  ['not a sequences file', '{"alice@host": {"last": "three"}}'],
]) {
  test(`bundle create: an unreadable sequences.json (${what}) is an error naming it, not a restart at 1`, async (t) => {
    const { store, bundle } = await world(t);
    const old = join(store.home, 'sequences.json');
    await writeFile(old, body);
    await assert.rejects(bundle('a'), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'STORE_CORRUPT');
      assert.ok(e.message.startsWith(`${old}: `), e.message);
      assert.ok(!e.message.includes('\n'), e.message);
      return true;
    });
    assert.equal(await readFile(old, 'utf8'), body, 'the file is left for the operator');
  });
}
