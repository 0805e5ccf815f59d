import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { airlock } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

test('--json: every command that succeeds prints one JSON document on stdout', async (t) => {
  const dir = await tempDir(t);
  const home = ['--home', join(dir, 'home')];
  const json = async (args: string[]) => {
    const r = await airlock(['--json', ...home, ...args], { cwd: dir });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    try {
      return JSON.parse(r.stdout) as Record<string, unknown>;
    } catch {
      assert.fail(`${args.join(' ')} printed no JSON: ${r.stdout}`);
    }
  };
  assert.ok((await json(['init'])).id);
  const created = await json(['token', 'create', '--name', 'ci', '--role', 'publisher']);
  assert.equal(created.name, 'ci');
  assert.equal(created.role, 'publisher');
  assert.match(String(created.token), /^airlock_/);
  assert.deepEqual(await json(['token', 'revoke', 'ci']), { name: 'ci', revoked: true, alreadyRevoked: false, children: [] });
  await json(['key', 'generate', '--name', 'officer', '--out', join(dir, 'keys')]);
  const exported = await json(['audit', 'export', '-o', join(dir, 'audit.json'), '--key', join(dir, 'keys', 'officer.key')]);
  assert.equal(exported.file, join(dir, 'audit.json'));
  assert.equal(typeof exported.entries, 'number');
  await writeFile(
    join(dir, 'trust.yaml'),
    `keys:\n  officer: ${JSON.stringify(join(dir, 'keys', 'officer.pub'))}\nroles:\n  origin: { keys: [officer], threshold: 1 }\nrules:\n  requireRoles: [origin]\n`,
  );
  const trust = await json(['trust', 'set', join(dir, 'trust.yaml')]);
  assert.deepEqual(trust.requireRoles, ['origin']);
  for (const args of [
    ['list'],
    ['history'],
    ['verify'],
    ['token', 'list'],
    ['key', 'list', '--dir', join(dir, 'keys')],
    ['trust', 'show'],
    ['audit', 'verify'],
  ])
    await json(args);
});
