import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { silentReporter } from '../../src/core/report.js';
import { custodyPath } from '../../src/custody/custody-file.js';
import { pae, signEnvelope } from '../../src/core/dsse.js';
import { generateKey } from '../../src/core/keys.js';
import { parseTrustPolicy } from '../../src/custody/policy.js';
import { signBundle } from '../../src/custody/sign.js';
import type { Role } from '../../src/custody/statement.js';
import { createBundle, readBundleHeader } from '../../src/services/bundle.js';
import { importBundles } from '../../src/services/import.js';
import { seedLock } from '../helpers/seed.js';
import { storeSnapshot } from '../helpers/snapshot.js';
import { twoStores } from '../helpers/stores.js';
import { tempDir } from '../helpers/tmp.js';
import { setTrustPolicy } from '../helpers/meta.js';

test("DSSE pre-authentication encoding matches the spec's example", () => {
  assert.equal(
    pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(),
    'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
  );
});

const NAMES = ['ingest-1', 'approver-1', 'approver-2', 'scan-1', 'scan-2', 'scan-3', 'courier-1', 'stranger'] as const;
type Name = (typeof NAMES)[number];

/** Keys on disk, a trust.yaml naming them as in the issue, a bundle, and a closed-side store with the policy installed. */
async function world(t: TestContext, policyExtra = '') {
  const dir = await tempDir(t);
  const keys = {} as Record<Name, { key: string; pub: string; keyId: string }>;
  for (const n of NAMES) {
    const k = generateKey();
    await writeFile(join(dir, `${n}.key`), k.privatePem);
    await writeFile(join(dir, `${n}.pub`), k.publicPem);
    keys[n] = { key: join(dir, `${n}.key`), pub: join(dir, `${n}.pub`), keyId: k.keyId };
  }
  const yaml = [
    'keys:',
    ...NAMES.filter((n) => n !== 'stranger').map((n) => `  ${n}: ${n}.pub`),
    'roles:',
    '  origin:   { keys: [ingest-1], threshold: 1 }',
    '  sponsor:  { keys: [approver-1, approver-2], threshold: 1 }',
    '  verifier: { keys: [scan-1, scan-2, scan-3], threshold: 2 }',
    '  courier:  { keys: [courier-1, approver-1], threshold: 1 }',
    'rules: { separateDuties: true, maxAge: 30d, requireRoles: [origin, sponsor, verifier, courier] }',
    policyExtra,
    '',
  ].join('\n');
  await writeFile(join(dir, 'trust.yaml'), yaml);
  const { low, high } = await twoStores(t);
  await setTrustPolicy(high.meta, canonicalJson(parseTrustPolicy(yaml, join(dir, 'trust.yaml'))), 'trust.yaml');
  const lock = await seedLock(low, { 'a.txt': Buffer.from('payload\n') }, 'custody');
  const { files } = await createBundle(low, lock, {
    out: join(dir, 'b.airlock'),
    sequence: 1,
    creator: 'ingest',
    reporter: silentReporter,
  });
  const file = files[0]!;
  const info = await readBundleHeader(file);
  const sign = (who: Name, role: Role, at = file) => signBundle(at, info, { keyFile: keys[who].key, role, data: {} });
  return { dir, keys, high, file, info, sign };
}

type World = Awaited<ReturnType<typeof world>>;

/** Signs in order: `[['ingest-1', 'origin'], ...]`. */
async function signAs(w: World, who: [Name, Role][]): Promise<void> {
  for (const [name, role] of who) await w.sign(name, role);
}

const allFour = (w: World) =>
  signAs(w, [
    ['ingest-1', 'origin'],
    ['approver-2', 'sponsor'],
    ['scan-1', 'verifier'],
    ['scan-2', 'verifier'],
    ['courier-1', 'courier'],
  ]);

test('custody: four roles signed by distinct keys satisfy the policy and the bundle imports', async (t) => {
  const w = await world(t);
  await allFour(w);
  const [r] = await importBundles(w.high, [w.file], silentReporter);
  assert.equal(r!.outcome, 'imported');
});

/** Each refusal: the import fails naming what is missing, and the store is as it was. */
const refusals: [string, (w: World) => Promise<void>, RegExp][] = [
  [
    'a missing role',
    (w) =>
      signAs(w, [
        ['ingest-1', 'origin'],
        ['scan-1', 'verifier'],
        ['scan-2', 'verifier'],
        ['courier-1', 'courier'],
      ]),
    /sponsor needs 1 of approver-1, approver-2; has 0/,
  ],
  [
    'a threshold not reached',
    (w) =>
      signAs(w, [
        ['ingest-1', 'origin'],
        ['approver-1', 'sponsor'],
        ['scan-1', 'verifier'],
        ['courier-1', 'courier'],
      ]),
    /verifier needs 2 of scan-1, scan-2, scan-3; has 1 \(scan-1\)/,
  ],
  [
    'one signer counted twice',
    (w) =>
      signAs(w, [
        ['ingest-1', 'origin'],
        ['approver-1', 'sponsor'],
        ['scan-1', 'verifier'],
        ['scan-1', 'verifier'],
        ['courier-1', 'courier'],
      ]),
    /verifier needs 2 of scan-1, scan-2, scan-3; has 1 \(scan-1\)/,
  ],
  [
    'one key in two roles',
    (w) =>
      signAs(w, [
        ['ingest-1', 'origin'],
        ['approver-1', 'sponsor'],
        ['scan-1', 'verifier'],
        ['scan-2', 'verifier'],
        ['approver-1', 'courier'],
      ]),
    /separateDuties: approver-1 signed as courier and sponsor/,
  ],
  [
    'an unknown key',
    (w) =>
      signAs(w, [
        ['ingest-1', 'origin'],
        ['stranger', 'sponsor'],
        ['scan-1', 'verifier'],
        ['scan-2', 'verifier'],
        ['courier-1', 'courier'],
      ]),
    /sponsor needs 1 of approver-1, approver-2; has 0; key [0-9a-f]{12}… is not in the policy/,
  ],
  [
    'a signature over another bundle',
    async (w) => {
      await allFour(w);
      const custody = await readFile(custodyPath(w.file), 'utf8');
      // A sponsor statement about a different manifest, spliced into this bundle's custody.
      const lines = custody.trim().split('\n');
      const foreign = JSON.parse(lines[1]!) as { payload: string };
      const statement = JSON.parse(Buffer.from(foreign.payload, 'base64').toString()) as { subject: { digest: { sha256: string } }[] };
      statement.subject[0]!.digest.sha256 = 'f'.repeat(64);
      const env = signEnvelope(
        'application/vnd.in-toto+json',
        Buffer.from(JSON.stringify(statement)),
        createPrivateKey(await readFile(w.keys['approver-2'].key, 'utf8')),
        w.keys['approver-2'].keyId,
      );
      lines[1] = JSON.stringify(env);
      await writeFile(custodyPath(w.file), `${lines.join('\n')}\n`);
    },
    /sponsor signature by approver-2 is for another bundle/,
  ],
  [
    'a custody file edited by one byte',
    async (w) => {
      await allFour(w);
      const text = await readFile(custodyPath(w.file), 'utf8');
      const at = text.indexOf('"sig":"') + 10;
      const flipped = text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
      await writeFile(custodyPath(w.file), flipped);
    },
    /custody line 1: the signature does not verify/,
  ],
  [
    'a bundle edited by one byte with intact custody',
    async (w) => {
      await allFour(w);
      const bytes = await readFile(w.file);
      const at = bytes.indexOf(Buffer.from('"name": "custody"'));
      bytes[at + 10] = 'C'.charCodeAt(0);
      await writeFile(w.file, bytes);
    },
    /the bundle manifest is corrupt/,
  ],
];

for (const [what, arrange, message] of refusals) {
  test(`custody refuses ${what}, leaving the store unchanged`, async (t) => {
    const w = await world(t);
    await arrange(w);
    const before = await storeSnapshot(w.high.home);
    await assert.rejects(importBundles(w.high, [w.file], silentReporter), message);
    assert.equal(await storeSnapshot(w.high.home), before);
  });
}

test('custody refuses a revoked key, leaving the store unchanged', async (t) => {
  const w = await world(t);
  const yaml = (await readFile(join(w.dir, 'trust.yaml'), 'utf8')).replace(/\n$/, `\nrevoked: [${w.keys['scan-2'].keyId}]\n`);
  await setTrustPolicy(w.high.meta, canonicalJson(parseTrustPolicy(yaml, join(w.dir, 'trust.yaml'))), 'trust.yaml');
  await allFour(w);
  const before = await storeSnapshot(w.high.home);
  await assert.rejects(
    importBundles(w.high, [w.file], silentReporter),
    /verifier needs 2 of scan-1, scan-2, scan-3; has 1 \(scan-1\); scan-2 is revoked/,
  );
  assert.equal(await storeSnapshot(w.high.home), before);
});

test('custody refuses a bundle older than maxAge, leaving the store unchanged', async (t) => {
  const w = await world(t);
  const yaml = (await readFile(join(w.dir, 'trust.yaml'), 'utf8')).replace('maxAge: 30d', 'maxAge: 1s');
  await setTrustPolicy(w.high.meta, canonicalJson(parseTrustPolicy(yaml, join(w.dir, 'trust.yaml'))), 'trust.yaml');
  await allFour(w);
  await new Promise((r) => setTimeout(r, 1100));
  const before = await storeSnapshot(w.high.home);
  await assert.rejects(
    importBundles(w.high, [w.file], silentReporter),
    /maxAge: the origin signed it at .*, longer ago than the policy allows/,
  );
  assert.equal(await storeSnapshot(w.high.home), before);
});

test('replay: another bundle with a sequence already imported is refused; a lower unused one fills a gap', async (t) => {
  const { dir, low, high } = await twoStores(t);
  const make = async (content: string, sequence: number) =>
    (
      await createBundle(low, await seedLock(low, { [`${content}.txt`]: Buffer.from(content) }, content), {
        out: join(dir, `${content}.airlock`),
        sequence,
        creator: 'ingest',
        reporter: silentReporter,
      })
    ).files;
  const notes: string[] = [];
  const reporter = { ...silentReporter, info: (m: string) => notes.push(m) };
  await importBundles(high, await make('first', 1), reporter);
  await importBundles(high, await make('third', 3), reporter);
  assert.ok(
    notes.some((n) => /sequence 3 from ingest; not yet imported: 2/.test(n)),
    notes.join('\n'),
  );
  const replay = await make('again', 3);
  const before = await storeSnapshot(high.home);
  await assert.rejects(
    importBundles(high, replay, silentReporter),
    /sequence 3 from ingest was already imported as sha256:[0-9a-f]{64} \(a replay or a reused number\)/,
  );
  assert.equal(await storeSnapshot(high.home), before);
  await importBundles(high, await make('second', 2), reporter);
  assert.ok(
    notes.some((n) => /sequence 2 from ingest fills a gap \(highest imported: 3\)/.test(n)),
    notes.join('\n'),
  );
});

test('trust policies are validated: unknown keys, impossible thresholds, unreadable keys', async (t) => {
  const dir = await tempDir(t);
  const k = generateKey();
  await writeFile(join(dir, 'a.pub'), k.publicPem);
  const bad = (yaml: string, re: RegExp) => assert.throws(() => parseTrustPolicy(yaml, join(dir, 'trust.yaml')), re);
  bad('keys: { a: a.pub }\nroles: { origin: { keys: [b], threshold: 1 } }\n', /roles\.origin: unknown key "b"/);
  bad('keys: { a: a.pub }\nroles: { origin: { keys: [a], threshold: 2 } }\n', /threshold 2 but only 1 key/);
  bad('keys: { a: missing.pub }\nroles: { origin: { keys: [a], threshold: 1 } }\n', /keys\.a: cannot read missing\.pub/);
  bad(
    'keys: { a: a.pub }\nroles: { origin: { keys: [a], threshold: 1 } }\nrules: { maxAge: forever }\n',
    /rules\.maxAge: expected a duration/,
  );
  bad('keys: { a: a.pub, b: a.pub }\nroles: { origin: { keys: [a], threshold: 1 } }\n', /the same key is listed under two names/);
  bad(
    'keys: { a: a.pub }\nroles: { origin: { keys: [a], threshold: 1 } }\nrules: { requireRoles: [courier] }\n',
    /courier has no entry under roles/,
  );
});
