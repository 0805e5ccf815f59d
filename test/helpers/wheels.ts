import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAKE_WHEEL = fileURLToPath(new URL('../../../test/fixtures/make_wheel.py', import.meta.url));

/** A real wheel built by Python's zipfile, so airlock is checked against another implementation. */
export function makeWheel(dir: string, name: string, version: string, requiresPython = '', ...requires: string[]): string {
  const r = spawnSync('python3', [MAKE_WHEEL, dir, name, version, requiresPython, ...requires], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return join(dir, r.stdout.trim());
}
