import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type TestContext, test } from 'node:test';
import { audit } from '../../src/audit/log.js';
import { escapeText } from '../../src/cli/render.js';
import { Store } from '../../src/core/store.js';
import { airlock } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

async function home(t: TestContext) {
  const dir = join(await tempDir(t), 'home');
  const store = await Store.open(dir);
  return { dir, store };
}

test('render: control characters, DEL, C1 and bidi overrides are shown escaped; backslashes too, so nothing is ambiguous', () => {
  assert.equal(escapeText('plain @scope/name 1.0.0 ü'), 'plain @scope/name 1.0.0 ü');
  assert.equal(escapeText('a\nb\r\tc\u001b[31m\u007f\u009b\u202e\\'), 'a\\nb\\r\\tc\\x1b[31m\\x7f\\x9b\\u202e\\\\');
});

test('audit log, token list, history: a hostile value cannot break a line or send a terminal escape', async (t) => {
  const { dir, store } = await home(t);
  await audit(store, {
    actor: 'npm-login:x\r\nforged line',
    action: 'npm.login',
    subject: 'evil\u001b[2J\u001b[31mred',
    outcome: 'refused',
  });
  await store.meta.transaction((tx) =>
    tx.recordImport({ bundleId: null, source: 'in\nbox.airlock', volumes: [1], outcome: 'refused', message: 'bad\u001b]0;title\u0007' }),
  );
  await store.close();
  const db = new DatabaseSync(join(dir, 'airlock.db'));
  // A name from before names were checked (or written straight into the database).
  db.prepare('INSERT INTO tokens (name, role, hash, created_at) VALUES (?, ?, ?, ?)').run(
    'old\u001b[8m',
    'reader',
    'h',
    new Date().toISOString(),
  );
  db.close();
  for (const args of [['audit', 'log'], ['token', 'list'], ['history']]) {
    const r = await airlock(['--home', dir, ...args]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(r.stdout), `${args.join(' ')}: ${JSON.stringify(r.stdout)}`);
    assert.equal(r.stdout.trimEnd().split('\n').length, 2, `${args.join(' ')}: a header and one line`);
  }
  const log = (await airlock(['--home', dir, 'audit', 'log'])).stdout;
  assert.match(log, /npm-login:x\\r\\nforged line/);
  assert.match(log, /evil\\x1b\[2J\\x1b\[31mred/);
});

test('audit log streams: one long cell does not pad every other line to its width', async (t) => {
  const { dir, store } = await home(t);
  await audit(store, { actor: 'local:test', action: 'import', subject: 's'.repeat(100_000), outcome: 'imported' });
  for (let i = 0; i < 200; i++) await audit(store, { actor: 'local:test', action: 'import', subject: `bundle-${i}`, outcome: 'imported' });
  await store.close();
  const r = await airlock(['--home', dir, 'audit', 'log']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 202);
  assert.ok(
    lines.slice(2).every((l) => l.length < 200),
    `a short entry's line is short: ${lines[2]!.length} characters`,
  );
  const json = JSON.parse((await airlock(['--home', dir, '--json', 'audit', 'log', '--since', '2000-01-01'])).stdout) as {
    id: number;
    subject: string;
  }[];
  assert.deepEqual(
    json.map((e) => e.id),
    Array.from({ length: 201 }, (_, i) => i + 1),
  );
  assert.equal(JSON.parse((await airlock(['--home', dir, '--json', 'audit', 'log', '--since', '2999-01-01'])).stdout).length, 0);
});

test('audit log and verify read the chain a row at a time: a log far larger than the heap still verifies and prints', async (t) => {
  const { dir, store } = await home(t);
  const big = 'x'.repeat(4 << 20);
  for (let i = 0; i < 24; i++)
    await audit(store, { actor: 'local:test', action: 'import', subject: `bundle-${i}`, outcome: 'imported', detail: { junk: big } });
  await store.close();
  // 96 MiB of entries against a 48 MiB heap: holding them all at once cannot fit.
  const env = { NODE_OPTIONS: '--max-old-space-size=48' };
  const verify = await airlock(['--home', dir, 'audit', 'verify'], { env });
  assert.equal(verify.code, 0, verify.stderr.slice(0, 2000));
  assert.match(verify.stdout, /audit log intact: 24 entries/);
  const log = await airlock(['--home', dir, 'audit', 'log'], { env });
  assert.equal(log.code, 0, log.stderr.slice(0, 2000));
  assert.equal(log.stdout.trimEnd().split('\n').length, 25);
});
