import assert from 'node:assert/strict';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store.js';
import { airlock } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { startUpstream } from '../helpers/upstream.js';

test('store id: made when the store is, kept across opens, another for another store', async (t) => {
  const dir = await tempDir(t);
  const a = await Store.open(join(dir, 'a'));
  const id = a.id;
  await a.close();
  assert.match(id, /^[0-9a-f]{32}$/);
  const again = await Store.open(join(dir, 'a'));
  assert.equal(again.id, id);
  await again.close();
  const b = await Store.open(join(dir, 'b'));
  assert.notEqual(b.id, id);
  await b.close();
  const init = await airlock(['--home', join(dir, 'a'), '--json', 'init']);
  assert.deepEqual(JSON.parse(init.stdout), { home: join(dir, 'a'), id });
  assert.match((await airlock(['--home', join(dir, 'a'), 'init'])).stdout, new RegExp(`store ready at .*\\(id ${id}\\)`));
});

test('two connected stores of one user@host are two creators: the closed side takes the first bundle of each', async (t) => {
  const dir = await tempDir(t);
  const up = await startUpstream(t, { '/a.txt': { body: Buffer.from('a\n') }, '/b.txt': { body: Buffer.from('b\n') } });
  const bundles = [];
  for (const which of ['a', 'b']) {
    const work = join(dir, which);
    await mkdir(work);
    await writeFile(join(work, 'airlock.yaml'), `name: ${which}\nfiles:\n  - url: ${up.url}/${which}.txt\n`);
    const made = await airlock(['--home', join(work, 'home'), 'bundle', 'create', '-f', 'airlock.yaml', '-o', `${which}.airlock`], {
      cwd: work,
    });
    assert.equal(made.code, 0, made.stderr);
    bundles.push(join(work, made.stdout.trim()));
  }
  for (const file of bundles) {
    const r = await airlock(['--home', join(dir, 'high'), 'import', file]);
    assert.equal(r.code, 0, `${file}: ${r.stderr}`);
  }
  for (const [i, which] of ['a', 'b'].entries()) {
    const inspect = await airlock(['bundle', 'inspect', bundles[i]!]);
    const id = (JSON.parse((await airlock(['--home', join(dir, which, 'home'), '--json', 'init'])).stdout) as { id: string }).id;
    assert.match(inspect.stdout, new RegExp(`sequence  1\\ncreator   \\S+@\\S+/${id.slice(0, 8)}\\n`));
  }
});
