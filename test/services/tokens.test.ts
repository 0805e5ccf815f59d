import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type TestContext, test } from 'node:test';
import { audit } from '../../src/audit/log.js';
import { Store } from '../../src/core/store.js';
import { hashToken } from '../../src/core/tokens.js';
import { createToken, revokeToken } from '../../src/services/tokens.js';
import { airlock } from '../helpers/cli.js';
import { emptyServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { insertToken } from '../helpers/meta.js';

async function app(t: TestContext) {
  const { store, server } = await emptyServer(t);
  const login = async (name: string, password: string) => {
    const res = await server.inject({
      method: 'PUT',
      url: `/npm/-/user/org.couchdb.user:${name}`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name, password }),
    });
    return { status: res.statusCode, token: (JSON.parse(res.body) as { token?: string }).token, body: res.body };
  };
  const whoami = async (token: string) =>
    (await server.inject({ url: '/npm/-/whoami', headers: { authorization: `Bearer ${token}` } })).statusCode;
  return { store, server, login, whoami };
}

test('tokens: what npm login minted is revoked with the token that minted it', async (t) => {
  const { store, login, whoami } = await app(t);
  const ci = await createToken(store, 'ci', 'publisher');
  const other = await createToken(store, 'other', 'publisher');
  const alice = await login('alice', ci);
  const bob = await login('bob', other);
  assert.equal(alice.status, 201);
  assert.equal(await whoami(alice.token!), 200);
  const rows = await store.meta.listTokens();
  assert.equal(rows.find((r) => r.name.startsWith('npm-alice-'))?.parent, 'ci');
  assert.equal(rows.find((r) => r.name === 'ci')?.parent, null);

  const revoked = await revokeToken(store, 'ci');
  assert.deepEqual(
    revoked.children.map((c) => c.replace(/-[^-]+$/, '')),
    ['npm-alice'],
  );
  assert.equal(await whoami(alice.token!), 401, 'the minted token died with its parent');
  assert.equal(await whoami(bob.token!), 200, "another parent's child lives on");
  const log = (await store.meta.listAudit()).filter((r) => r.action === 'token.revoke');
  assert.deepEqual(
    log.map((r) => [r.subject.replace(/^npm-alice-.*/, 'npm-alice-…'), (JSON.parse(r.detail) as { parent?: string }).parent]),
    [
      ['ci', undefined],
      ['npm-alice-…', 'ci'],
    ],
  );
});

test('tokens: a minted token cannot mint more (403)', async (t) => {
  const { store, login } = await app(t);
  const alice = await login('alice', await createToken(store, 'ci', 'publisher'));
  const again = await login('mallory', alice.token!);
  assert.equal(again.status, 403);
  assert.match((JSON.parse(again.body) as { error: string }).error, /was itself minted by "ci"/);
  assert.equal((await store.meta.listTokens()).length, 2);
});

test('tokens: revoke --no-with-children keeps the children; revoking a revoked parent again takes them', async (t) => {
  const { store, login, whoami } = await app(t);
  const alice = await login('alice', await createToken(store, 'ci', 'publisher'));
  assert.deepEqual((await revokeToken(store, 'ci', { withChildren: false })).children, []);
  assert.equal(await whoami(alice.token!), 200);
  const again = await revokeToken(store, 'ci');
  assert.equal(again.children.length, 1);
  assert.equal(again.alreadyRevoked, true);
  assert.equal(await whoami(alice.token!), 401);
  await assert.rejects(revokeToken(store, 'ci'), /token "ci": no active token has that name, nor active tokens it minted/);
});

test('tokens: 30 parallel logins with one name each get their own token', async (t) => {
  const { store, login } = await app(t);
  const ci = await createToken(store, 'ci', 'publisher');
  const results = await Promise.all(Array.from({ length: 30 }, () => login('alice', ci)));
  assert.deepEqual(
    results.map((r) => r.status),
    Array(30).fill(201),
    results.find((r) => r.status !== 201)?.body,
  );
  assert.equal(new Set(results.map((r) => r.token)).size, 30);
  assert.equal((await store.meta.listTokens()).filter((r) => r.parent === 'ci').length, 30);
});

test('tokens: a store from before parents were recorded learns them from the audit log', async (t) => {
  const home = join(await tempDir(t), 'home');
  const store = await Store.open(home);
  await insertToken(store.meta, 'ci', 'publisher', hashToken('secret-ci'));
  await insertToken(store.meta, 'npm-alice-old', 'publisher', hashToken('secret-alice'));
  await audit(store, {
    actor: 'token:ci',
    action: 'token.create',
    subject: 'npm-alice-old',
    outcome: 'created',
    detail: { role: 'publisher' },
  });
  await store.close();
  // Back to schema 2: the parent column did not exist and nothing recorded who minted what.
  const db = new DatabaseSync(join(home, 'airlock.db'));
  db.exec('ALTER TABLE tokens DROP COLUMN parent_id; DROP TABLE store_info; PRAGMA user_version = 2');
  db.close();
  const upgraded = await Store.open(home);
  t.after(() => upgraded.close());
  assert.equal((await upgraded.meta.listTokens()).find((r) => r.name === 'npm-alice-old')?.parent, 'ci');
  await revokeToken(upgraded, 'ci');
  assert.equal(await upgraded.meta.findActiveToken(hashToken('secret-alice')), undefined);
});

test('token revoke --help says that it revokes what the token minted', async () => {
  const r = await airlock(['token', 'revoke', '--help']);
  assert.match(r.stdout, /--with-children/);
  assert.match(r.stdout, /minted .*too, by default|by default.*minted/s);
});
