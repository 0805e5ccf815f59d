import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { AIRLOCK } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const SMALL_NURSERY = '--max-semi-space-size=2';

test('batch commands start with the small young generation the first line gives', () => {
  assert.match(readFileSync(AIRLOCK, 'utf8').split('\n', 1)[0]!, new RegExp(`^#!/usr/bin/env -S node ${SMALL_NURSERY}$`));
});

for (const args of [['serve'], ['--home', 'HOME', 'serve'], ['--json', 'serve']]) {
  test(`airlock ${args.join(' ')} runs in the same process with V8's own young generation`, async (t) => {
    const home = await tempDir(t);
    const child = spawn(AIRLOCK, [...args.map((a) => (a === 'HOME' ? home : a)), '--listen', '127.0.0.1:0', '--log-level', 'silent'], {
      env: { ...process.env, AIRLOCK_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    for (let i = 0; !out.includes('serving'); i++) {
      if (child.exitCode !== null || i === 300) assert.fail(`serve did not come up: ${out}`);
      await sleep(50);
    }
    // The pid the caller holds is the server's own: signals reach it.
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
    assert.ok(cmdline.includes('serve'), cmdline.join(' '));
    assert.ok(!cmdline.includes(SMALL_NURSERY), cmdline.join(' '));
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, out);
  });
}
