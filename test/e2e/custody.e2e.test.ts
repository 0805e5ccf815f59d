import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { airlock } from '../helpers/cli.js';
import { startUpstream } from '../helpers/upstream.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The chain of custody through the CLI: four people with their own keys sign in four roles
 * (the origin's key encrypted), the closed side installs a trust policy, refuses the bundle
 * without its signatures, imports it with them under `unshare -n`, and the audit log
 * records it all and survives a signed export.
 */
test('custody: four keys in four roles, a trust policy, an offline import, an audited override and an exported log', async (t) => {
  const dir = await tempDir(t);
  const up = await startUpstream(t, { '/a.txt': { body: Buffer.from('alpha\n') }, '/b.txt': { body: Buffer.from('beta\n') } });
  const low = join(dir, 'low');
  const high = join(dir, 'high');
  const keys = join(dir, 'keys');
  // An empty passphrase variable: these keys are written unencrypted whatever the caller's environment says.
  const env = { AIRLOCK_KEY_PASSPHRASE: '' };
  const ok = async (args: string[], opts: { offline?: boolean; env?: NodeJS.ProcessEnv } = {}) => {
    const r = await airlock(args, { cwd: dir, ...opts });
    assert.equal(r.code, 0, `airlock ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  await ok(['--home', low, 'key', 'generate', '--name', 'ingest-1', '--out', keys], { env: { AIRLOCK_KEY_PASSPHRASE: 'correct horse' } });
  for (const n of ['approver-1', 'scan-1', 'scan-2', 'courier-1'])
    await ok(['--home', low, 'key', 'generate', '--name', n, '--out', keys], { env });
  const listed = await ok(['--home', low, 'key', 'list', '--dir', keys]);
  assert.match(listed.stdout, /ingest-1\s+[0-9a-f]{64}\s+encrypted/);

  const manifest = (name: string, file: string) =>
    `name: ${name}\ntarget: { platforms: [linux/amd64] }\nfiles:\n  - url: ${up.url}/${file}\n`;
  await writeFile(join(dir, 'a.yaml'), manifest('signed', 'a.txt'));
  await writeFile(join(dir, 'b.yaml'), manifest('unsigned', 'b.txt'));
  await ok(['--home', low, 'bundle', 'create', '-f', 'a.yaml', '-o', 'a.airlock', '--sign', join(keys, 'ingest-1.key')], {
    env: { AIRLOCK_KEY_PASSPHRASE: 'correct horse' },
  });
  await ok(['--home', low, 'bundle', 'create', '-f', 'b.yaml', '-o', 'b.airlock']);
  const wrong = await airlock(['--home', low, 'bundle', 'sign', 'b.airlock', '--key', join(keys, 'ingest-1.key'), '--role', 'origin'], {
    cwd: dir,
    env: { AIRLOCK_KEY_PASSPHRASE: 'wrong' },
  });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /ingest-1\.key: not a readable private key/);
  await copyFile(join(dir, 'a.airlock'), join(dir, 'bare.airlock'));
  await ok([
    '--home',
    low,
    'bundle',
    'sign',
    'a.airlock',
    '--key',
    join(keys, 'approver-1.key'),
    '--role',
    'sponsor',
    '--note',
    'approved in CAB-118',
  ]);
  for (const n of ['scan-1', 'scan-2'])
    await ok([
      '--home',
      low,
      'bundle',
      'sign',
      'a.airlock',
      '--key',
      join(keys, `${n}.key`),
      '--role',
      'verifier',
      '--set',
      'clamav=clean',
      '--set',
      `report=sha256:${'c'.repeat(64)}`,
    ]);
  await ok([
    '--home',
    low,
    'bundle',
    'sign',
    'a.airlock',
    '--key',
    join(keys, 'courier-1.key'),
    '--role',
    'courier',
    '--set',
    'media=DVD-0042',
    '--set',
    'seal=77810',
  ]);

  await writeFile(
    join(dir, 'trust.yaml'),
    [
      'keys:',
      ...['ingest-1', 'approver-1', 'scan-1', 'scan-2', 'courier-1'].map((n) => `  ${n}: keys/${n}.pub`),
      'roles:',
      '  origin:   { keys: [ingest-1], threshold: 1 }',
      '  sponsor:  { keys: [approver-1], threshold: 1 }',
      '  verifier: { keys: [scan-1, scan-2], threshold: 2 }',
      '  courier:  { keys: [courier-1], threshold: 1 }',
      'rules: { separateDuties: true, maxAge: 30d }',
      '',
    ].join('\n'),
  );
  const none = await ok(['--home', high, 'import', 'b.airlock'], { offline: true });
  assert.match(none.stderr, /custody is not enforced/);
  await ok(['--home', high, 'trust', 'set', 'trust.yaml']);
  const shown = await ok(['--home', high, 'trust', 'show']);
  assert.match(shown.stdout, /verifier: 2 of scan-1, scan-2/);

  const bare = await airlock(['--home', high, 'import', 'bare.airlock'], { cwd: dir, offline: true });
  assert.equal(bare.code, 1);
  assert.match(
    bare.stderr,
    /bare\.airlock: custody: origin needs 1 of ingest-1; has 0; sponsor needs 1 of approver-1; has 0; verifier needs 2 of scan-1, scan-2; has 0; courier needs 1 of courier-1; has 0/,
  );
  const imported = await ok(['--home', high, 'import', 'a.airlock'], { offline: true });
  assert.match(imported.stderr, /custody holds \(origin: ingest-1; sponsor: approver-1; verifier: scan-1, scan-2; courier: courier-1\)/);
  const custody = await ok(['--home', high, 'bundle', 'custody', 'a.airlock']);
  assert.match(custody.stdout, /sponsor\s+approver-1\s+\S+\s+valid\s+approved in CAB-118/);
  assert.match(custody.stdout, /the trust policy holds/);

  await writeFile(join(dir, 'c.yaml'), manifest('override', 'a.txt').replace('a.txt', 'b.txt'));
  await ok(['--home', low, 'bundle', 'create', '-f', 'c.yaml', '-o', 'c.airlock']);
  const forced = await ok(['--home', high, 'import', 'c.airlock', '--override-custody', 'emergency patch, ticket 4711'], { offline: true });
  assert.match(forced.stderr, /custody OVERRIDDEN \(emergency patch, ticket 4711\)/);

  const log = JSON.parse((await ok(['--home', high, '--json', 'audit', 'log'])).stdout) as {
    action: string;
    outcome: string;
    detail: string;
  }[];
  assert.deepEqual(
    log.map((e) => `${e.action} ${e.outcome}`),
    ['import imported', 'trust.set installed', 'import refused', 'import imported', 'custody.override overridden', 'import imported'],
  );
  assert.match(log[4]!.detail, /emergency patch, ticket 4711/);
  await ok(['--home', high, 'audit', 'verify']);
  await ok(['--home', high, 'audit', 'export', '-o', 'audit.json', '--key', join(keys, 'courier-1.key')]);
  const checked = await ok(['audit', 'verify', '--file', 'audit.json', '--pub', join(keys, 'courier-1.pub')]);
  assert.match(checked.stdout, /audit log intact: 6 entries; signed by [0-9a-f]{16}…/);
});
