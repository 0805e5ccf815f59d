import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { airlock } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { startUpstream } from '../helpers/upstream.js';

test('an airlock.yaml edited after lock: fetch and bundle create refuse the stale lock; bundle create -f locks again', async (t) => {
  const dir = await tempDir(t);
  const home = ['--home', join(dir, 'home')];
  const up = await startUpstream(t, { '/a.txt': { body: Buffer.from('a\n') }, '/b.txt': { body: Buffer.from('b\n') } });
  const yaml = join(dir, 'airlock.yaml');
  await writeFile(yaml, `name: stale\nfiles:\n  - url: ${up.url}/a.txt\n`);
  const ok = async (args: string[]) => {
    const r = await airlock([...home, ...args], { cwd: dir });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  await ok(['lock']);
  const lock = JSON.parse(await readFile(join(dir, 'airlock.lock'), 'utf8')) as { manifest?: { file: string } };
  assert.equal(lock.manifest?.file, 'airlock.yaml', 'the lock names its manifest relative to itself');
  await ok(['fetch']);

  await appendFile(yaml, `  - url: ${up.url}/b.txt\n`);
  for (const args of [
    ['fetch'],
    ['bundle', 'create', '-o', 'x.airlock'],
    ['bundle', 'create', '--lock', 'airlock.lock', '-o', 'x.airlock'],
  ]) {
    const r = await airlock([...home, ...args], { cwd: dir });
    assert.equal(r.code, 1, `${args.join(' ')} refuses: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^airlock: error: airlock\.lock: stale: airlock\.yaml has changed since it was locked\nhint: run airlock lock/);
  }
  const made = await ok(['bundle', 'create', '-f', 'airlock.yaml', '-o', 'x.airlock']);
  const inspect = await ok(['bundle', 'inspect', made.stdout.trim().split('\n')[0]!]);
  assert.match(inspect.stdout, /b\.txt/, 'the edit is in the bundle');

  await ok(['lock']);
  await ok(['fetch']);
});
