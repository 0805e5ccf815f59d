import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { printTable } from '../../src/cli/common.js';
import { pushAll } from '../../src/core/arrays.js';
import { REPO } from '../helpers/cli.js';

const MANY = 300_000;

test('pushAll and printTable take more rows than call arguments can carry', () => {
  const into = pushAll(
    [0],
    Array.from({ length: MANY }, (_, i) => i + 1),
  );
  assert.equal(into.length, MANY + 1);
  assert.equal(into[MANY], MANY);
  const rows = Array.from({ length: MANY }, (_, i) => [`name-${i}`, String(i)]);
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  try {
    printTable(['NAME', 'N'], rows);
  } finally {
    process.stdout.write = write;
  }
  const lines = out.split('\n');
  assert.equal(lines.length, MANY + 2);
  assert.equal(lines[MANY], `name-${MANY - 1}  ${MANY - 1}`, 'columns padded to the widest cell');
});

test('no source spreads an array into call arguments (push(...x), Math.max(...x)): use pushAll or a loop', async () => {
  const offenders: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (p.endsWith('.ts')) {
        (await readFile(p, 'utf8')).split('\n').forEach((line, i) => {
          if (/\.(push|unshift)\(\s*\.\.\.|Math\.(max|min)\([^)]*\.\.\./.test(line)) offenders.push(`${p.slice(REPO.length)}:${i + 1}`);
        });
      }
    }
  };
  await walk(join(REPO, 'src'));
  assert.deepEqual(offenders, []);
});
