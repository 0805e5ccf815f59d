import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { canonicalJson } from '../../src/core/canonical-json.js';
import { hexOf } from '../../src/core/digest.js';
import { silentReporter } from '../../src/core/report.js';
import { appendCustody, custodyPath, readCustody } from '../../src/custody/custody-file.js';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from '../../src/core/dsse.js';
import { examineCustody } from '../../src/custody/examine.js';
import { generateKey } from '../../src/core/keys.js';
import { evaluateCustody, parseTrustPolicy } from '../../src/custody/policy.js';
import { makeStatement } from '../../src/custody/statement.js';
import { createBundle, readBundleHeader } from '../../src/services/bundle.js';
import { importBundles } from '../../src/services/import.js';
import { seedLock } from '../helpers/seed.js';
import { storeSnapshot } from '../helpers/snapshot.js';
import { twoStores } from '../helpers/stores.js';
import { setTrustPolicy } from '../helpers/meta.js';

/** A bundle whose only required role is origin (maxAge 1h), signed by ingest-1 at `time`. */
async function signedAt(t: TestContext, time: Date) {
  const { dir, low, high } = await twoStores(t);
  const k = generateKey();
  await writeFile(join(dir, 'ingest-1.pub'), k.publicPem);
  const yaml = 'keys: { ingest-1: ingest-1.pub }\nroles: { origin: { keys: [ingest-1], threshold: 1 } }\nrules: { maxAge: 1h }\n';
  const policy = parseTrustPolicy(yaml, join(dir, 'trust.yaml'));
  await setTrustPolicy(high.meta, canonicalJson(policy), 'trust.yaml');
  const lock = await seedLock(low, { 'a.txt': Buffer.from('payload\n') }, 'future');
  const file = (await createBundle(low, lock, { out: join(dir, 'b.airlock'), sequence: 1, creator: 'ingest', reporter: silentReporter }))
    .files[0]!;
  const info = await readBundleHeader(file);
  const statement = makeStatement(info.manifest.name, hexOf(info.bundleId), {
    role: 'origin',
    signer: k.keyId,
    publicKey: k.publicPem,
    time: time.toISOString(),
    data: {},
    sequence: 1,
  });
  await appendCustody(
    custodyPath(file),
    signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), createPrivateKey(k.privatePem), k.keyId),
  );
  const sigs = examineCustody(await readCustody(custodyPath(file)), hexOf(info.bundleId));
  return { high, file, policy, sigs };
}

test('custody refuses an origin signature dated in the future, naming the time and the signer, though maxAge would pass', async (t) => {
  const future = new Date(Date.now() + 365 * 86_400_000);
  const w = await signedAt(t, future);
  const verdict = evaluateCustody(w.policy, w.sigs, new Date());
  assert.equal(verdict.ok, false);
  const reasons = verdict.ok ? '' : verdict.reasons.join('; ');
  assert.match(
    reasons,
    new RegExp(
      `custody line 1: origin signature by ingest-1 is dated ${future.toISOString()}, later than now plus the 5-minute clock-skew allowance`,
    ),
  );
  const before = await storeSnapshot(w.high.home);
  await assert.rejects(importBundles(w.high, [w.file], silentReporter), /origin signature by ingest-1 is dated .*clock-skew allowance/);
  assert.equal(await storeSnapshot(w.high.home), before);
});

test('custody accepts a signature dated within the clock-skew allowance', async (t) => {
  const w = await signedAt(t, new Date(Date.now() + 60_000));
  assert.equal(evaluateCustody(w.policy, w.sigs, new Date()).ok, true);
  const [r] = await importBundles(w.high, [w.file], silentReporter);
  assert.equal(r!.outcome, 'imported');
});
