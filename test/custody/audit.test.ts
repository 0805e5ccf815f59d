import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type TestContext, test } from 'node:test';
import { exportAudit, verifyExport } from '../../src/audit/export.js';
import { entryHash } from '../../src/core/audit-entry.js';
import { audit, verifyStoreAudit } from '../../src/audit/log.js';
import { Store } from '../../src/core/store.js';
import { generateKey } from '../../src/core/keys.js';
import { tempDir } from '../helpers/tmp.js';

async function logged(t: TestContext) {
  const dir = await tempDir(t);
  const store = await Store.open(join(dir, 'home'));
  t.after(() => store.close());
  for (let i = 1; i <= 5; i++)
    await audit(store, { actor: 'local:test', action: 'import', subject: `bundle-${i}`, outcome: 'imported', detail: { n: i } });
  const db = new DatabaseSync(join(store.home, 'airlock.db'));
  t.after(() => db.close());
  return { store, db };
}

test('audit: an untouched chain verifies', async (t) => {
  const { store } = await logged(t);
  const r = await verifyStoreAudit(store);
  assert.deepEqual(r.ok && r.count, 5);
});

const tampering: [string, (db: DatabaseSync) => void, RegExp][] = [
  ['an edited entry', (db) => db.exec("UPDATE audit_log SET outcome = 'refused' WHERE id = 3"), /entry 3 \(import bundle-3\) was edited/],
  ['a deleted entry', (db) => db.exec('DELETE FROM audit_log WHERE id = 3'), /entry 3 \(import bundle-4\) does not follow entry 2/],
  ['a deleted last entry', (db) => db.exec('DELETE FROM audit_log WHERE id = 5'), /entries were deleted from the end/],
  [
    'reordered entries',
    (db) => {
      type Row = Record<'at' | 'actor' | 'action' | 'subject' | 'outcome' | 'detail' | 'prev_hash' | 'hash', string>;
      const [a, b] = db.prepare('SELECT * FROM audit_log WHERE id IN (2, 3) ORDER BY id').all() as unknown as [Row, Row];
      const set = db.prepare(
        'UPDATE audit_log SET at = ?, actor = ?, action = ?, subject = ?, outcome = ?, detail = ?, prev_hash = ?, hash = ? WHERE id = ?',
      );
      set.run(b.at, b.actor, b.action, b.subject, b.outcome, b.detail, b.prev_hash, b.hash, 2);
      set.run(a.at, a.actor, a.action, a.subject, a.outcome, a.detail, a.prev_hash, a.hash, 3);
    },
    /entry 2 \(import bundle-3\) does not follow entry 1/,
  ],
  [
    'an inserted entry, even one chained correctly',
    (db) => {
      const last = db.prepare('SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1').get() as { hash: string };
      const e = {
        at: new Date().toISOString(),
        actor: 'local:mallory',
        action: 'import',
        subject: 'forged',
        outcome: 'imported',
        detail: '{}',
        prevHash: last.hash,
      };
      db.prepare(
        'INSERT INTO audit_log (at, actor, action, subject, outcome, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(e.at, e.actor, e.action, e.subject, e.outcome, e.detail, e.prevHash, entryHash(e));
    },
    /the log ends at entry 6, but 5 were written/,
  ],
];

for (const [what, tamper, message] of tampering) {
  test(`audit: tampering (${what}) is detected and named`, async (t) => {
    const { store, db } = await logged(t);
    tamper(db);
    const r = await verifyStoreAudit(store);
    assert.equal(r.ok, false);
    assert.match(r.ok ? '' : r.why, message);
  });
}

test('audit: a signed export verifies elsewhere; an edited one does not', async (t) => {
  const { store } = await logged(t);
  const k = generateKey();
  const env = exportAudit(await store.meta.listAudit(), createPrivateKey(k.privatePem));
  const text = JSON.stringify(env);
  const ok = verifyExport(text, 'export.json', k.publicPem);
  assert.ok(ok.ok && ok.count === 5 && ok.keyId === k.keyId);
  assert.throws(() => verifyExport(text, 'export.json', generateKey().publicPem), /signed by another key/);
  const payload = JSON.parse(Buffer.from(env.payload, 'base64').toString()) as { entries: { outcome: string }[] };
  payload.entries[1]!.outcome = 'refused';
  const edited = JSON.stringify({ ...env, payload: Buffer.from(JSON.stringify(payload)).toString('base64') });
  assert.throws(() => verifyExport(edited, 'export.json'), /the signature does not verify/);
});
