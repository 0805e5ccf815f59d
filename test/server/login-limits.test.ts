import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { audit } from '../../src/audit/log.js';
import { Store } from '../../src/core/store.js';
import { FailedLogins } from '../../src/ecosystems/http/failures.js';
import { buildServer } from '../../src/server/app.js';
import { createToken } from '../../src/services/tokens.js';
import { tempDir } from '../helpers/tmp.js';

async function app(t: TestContext) {
  const store = await Store.open(join(await tempDir(t), 'home'));
  const server = await buildServer({ store, baseUrl: 'http://mirror', auth: 'none' });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await server.close();
  };
  t.after(async () => {
    await close();
    await store.close();
  });
  return { store, server, close };
}

const login = (
  server: Awaited<ReturnType<typeof app>>['server'],
  name: string,
  password: string,
  remoteAddress = '10.0.0.1',
  user = name,
) =>
  server.inject({
    method: 'PUT',
    url: `/npm/-/user/org.couchdb.user:${encodeURIComponent(user)}`,
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ _id: `org.couchdb.user:${name}`, name, password, type: 'user', roles: [] }),
    remoteAddress,
  });

test('npm login: a body beyond a few KiB is refused with 413 before anything is written', async (t) => {
  const { store, server } = await app(t);
  const size = () =>
    statSync(join(store.home, 'airlock.db')).size + (statSync(join(store.home, 'airlock.db-wal'), { throwIfNoEntry: false })?.size ?? 0);
  const before = size();
  const res = await login(server, 'x'.repeat(1 << 20), 'wrong', '10.0.0.1', 'x');
  assert.equal(res.statusCode, 413);
  assert.match((JSON.parse(res.body) as { error: string }).error, /at most 4096 bytes/);
  assert.equal((await store.meta.auditHead())?.count ?? 0, 0);
  assert.ok(size() - before < 64 << 10, 'the database did not grow');
  // npm audit's question is read without a token too, so it is bounded as well.
  const audit = await server.inject({
    method: 'POST',
    url: '/npm/-/npm/v1/security/advisories/bulk',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ x: 'y'.repeat(2 << 20) }),
  });
  assert.equal(audit.statusCode, 413);
  assert.ok((JSON.parse(audit.body) as { error?: string }).error);
});

test("npm login: user names follow npm's rules (lowercase, URL-safe, at most 214); others are refused with 400 and not audited", async (t) => {
  const { store, server } = await app(t);
  for (const bad of ['Alice', 'a\nb', 'evil\u001b[31mred', 'a b', '.dot', 'x'.repeat(215), '']) {
    const res = await login(server, bad, 'wrong', '10.0.0.1', bad || 'x');
    assert.equal(res.statusCode, 400, JSON.stringify(bad));
    assert.ok((JSON.parse(res.body) as { error: string }).error.length < 300, 'the refusal does not echo an unbounded name');
  }
  const mismatch = await login(server, 'alice', 'wrong', '10.0.0.1', 'bob');
  assert.equal(mismatch.statusCode, 400, 'the body names another user than the URL');
  assert.equal((await store.meta.auditHead())?.count ?? 0, 0);
  assert.equal((await login(server, 'a'.repeat(214), 'wrong')).statusCode, 401, '214 characters is still a name');
});

test('npm login: failures are limited per address and per name (429 with Retry-After) and audited once per window with a count', async (t) => {
  const { store, server, close } = await app(t);
  const publisher = await createToken(store, 'ci', 'publisher');
  const codes = [];
  for (let i = 0; i < 8; i++) codes.push((await login(server, `user${i}`, 'wrong', '10.0.0.1')).statusCode);
  assert.deepEqual(codes, [401, 401, 401, 401, 401, 429, 429, 429]);
  const limited = await login(server, 'user9', publisher, '10.0.0.1');
  assert.equal(limited.statusCode, 429, 'a limited address is not even asked for its password');
  assert.ok(Number(limited.headers['retry-after']) >= 1 && Number(limited.headers['retry-after']) <= 60);

  // One name from many addresses: the name is limited too.
  const byName = [];
  for (let i = 0; i < 7; i++) byName.push((await login(server, 'target', 'wrong', `10.1.0.${i}`)).statusCode);
  assert.deepEqual(byName, [401, 401, 401, 401, 401, 429, 429]);
  assert.equal((await login(server, 'someone', publisher, '10.2.0.1')).statusCode, 201, 'another address and name is not affected');

  await close();
  const rows = (await store.meta.listAudit()).filter((r) => r.action === 'npm.login');
  const summary = rows.map((r) => `${r.subject} ${r.outcome} ${String((JSON.parse(r.detail) as { address?: string }).address)}`);
  assert.deepEqual(summary, [
    'user0 refused 10.0.0.1',
    'user1 refused 10.0.0.1',
    'user2 refused 10.0.0.1',
    'user3 refused 10.0.0.1',
    'user4 refused 10.0.0.1',
    'target refused 10.1.0.0',
    // At the end of each window (here: the server stopping), what it held beyond its first entry.
    ...summary.slice(6),
  ]);
  const rest = rows
    .slice(6)
    .map((r) => ({ subject: r.subject, outcome: r.outcome, detail: JSON.parse(r.detail) as Record<string, unknown> }));
  rest.sort((a, b) => (a.subject < b.subject ? -1 : 1));
  assert.deepEqual(rest, [
    {
      subject: '10.0.0.1',
      outcome: 'throttled',
      detail: { attempts: 4, names: ['user5', 'user6', 'user7', 'user9'], from: rest[0]!.detail.from, to: rest[0]!.detail.to },
    },
    {
      subject: 'target',
      outcome: 'refused',
      detail: {
        attempts: 4,
        throttled: 2,
        addresses: ['10.1.0.0', '10.1.0.1', '10.1.0.2', '10.1.0.3', '10.1.0.4', '10.1.0.5', '10.1.0.6'],
        from: rest[1]!.detail.from,
        to: rest[1]!.detail.to,
      },
    },
  ]);
  assert.ok(Date.parse(String(rest[1]!.detail.from)) <= Date.parse(String(rest[1]!.detail.to)));
});

test('failed logins: the windows kept in memory are bounded; the oldest is summarised when it must go', async (t) => {
  const store = await Store.open(join(await tempDir(t), 'home'));
  t.after(() => store.close());
  let clock = 0;
  const limiter = new FailedLogins(
    async (e) => {
      await audit(store, e);
    },
    { action: 'npm.login', actor: 'npm-login' },
    { max: 5, windowMs: 60_000, maxKeys: 3 },
    () => clock,
  );
  for (let i = 0; i < 10; i++) {
    await limiter.failed('10.0.0.1', `n${i}`);
    await limiter.failed('10.0.0.1', `n${i}`);
    clock += 1;
  }
  assert.ok(limiter.size <= 6, `${limiter.size} windows kept`);
  clock += 60_000;
  assert.equal(await limiter.retryAfter('10.0.0.1', 'n9'), 0, 'a window ends');
  await limiter.flush();
  assert.equal(limiter.size, 0);
  const rows = await store.meta.listAudit();
  assert.equal(rows.filter((r) => r.outcome === 'refused').length, 20, 'every name: its first failure, then one summary of the second');
});

test('npm: a dist-tag must be URL-safe and short before it reaches the audit log; error messages quote client values cut short', async (t) => {
  const { store, server } = await app(t);
  const token = await createToken(store, 'ci', 'publisher');
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const tgz = Buffer.from('bytes');
  const doc = (version: string, tags: Record<string, string> = {}) => ({
    name: 'thing',
    'dist-tags': tags,
    versions: { [version]: { name: 'thing', version, dist: { shasum: createHash('sha1').update(tgz).digest('hex') } } },
    _attachments: { [`thing-${version}.tgz`]: { data: tgz.toString('base64'), length: tgz.length } },
  });
  const long = await server.inject({
    method: 'PUT',
    url: '/npm/thing',
    headers: auth,
    payload: JSON.stringify(doc(`1.0.0-${'x'.repeat(100_000)}\n`)),
  });
  assert.equal(long.statusCode, 400);
  assert.ok(long.body.length < 300, long.body.slice(0, 300));
  const badTag = await server.inject({
    method: 'PUT',
    url: '/npm/thing',
    headers: auth,
    payload: JSON.stringify(doc('1.0.0', { 'a\nb': '1.0.0' })),
  });
  assert.equal(badTag.statusCode, 400);
  assert.equal(
    (await server.inject({ method: 'PUT', url: '/npm/thing', headers: auth, payload: JSON.stringify(doc('1.0.0')) })).statusCode,
    201,
  );
  const tag = await server.inject({
    method: 'PUT',
    url: `/npm/-/package/thing/dist-tags/${encodeURIComponent('x\u001b[31m')}`,
    headers: auth,
    payload: '"1.0.0"',
  });
  assert.equal(tag.statusCode, 400);
  assert.ok(!(await store.meta.listAudit()).some((r) => /[\u0000-\u001f]/.test(r.subject)));
});
