import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { checkChain } from '../../src/audit/chain.js';
import type { ArtifactRecord } from '../../src/core/artifact.js';
import type { Digest } from '../../src/core/digest.js';
import { isAirlockError } from '../../src/core/errors.js';
import { type AuditEvent, type AuditRow, type MetadataStore, audited } from '../../src/core/metadata.js';

/** A new, empty store of the backend under test, closed when the test ends. */
export type MetadataFactory = (t: TestContext) => Promise<MetadataStore>;

const digest = (n: number): Digest => `sha256:${n.toString(16).padStart(64, '0')}`;

const record = (ecosystem: string, name: string, version: string, d = 1): ArtifactRecord => ({
  ecosystem,
  key: `${name}-${version}`,
  name,
  version,
  digest: digest(d),
  size: d,
  metadata: { v: version },
  blobs: [{ digest: digest(d), size: d }],
});

const event = (subject: string): AuditEvent => ({
  actor: 'local:conformance',
  action: 'test.write',
  subject,
  outcome: 'written',
  detail: { subject },
});

const isCode = (code: string) => (e: unknown) => isAirlockError(e) && e.code === code;

/** A promise and the function that settles it: a transaction held open at a known point. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

/** Lets every queued callback run, so whatever could slip in while a transaction is held, has. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

async function auditRows(meta: MetadataStore): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  for await (const r of meta.iterateAudit()) rows.push(r);
  return rows;
}

/**
 * What every MetadataStore must do, whatever holds the data: a second backend (PostgreSQL)
 * runs this same suite with its own factory.
 */
export function metadataConformance(backend: string, factory: MetadataFactory): void {
  const it = (name: string, fn: (meta: MetadataStore) => Promise<void>) =>
    test(`metadata conformance (${backend}): ${name}`, async (t) => fn(await factory(t)));

  it('a transaction commits its state and its audit entry together', async (meta) => {
    const res = await audited(meta, event('a'), (tx, because) => tx.putArtifacts([record('pypi', 'a', '1')], null, because));
    assert.deepEqual(res, { added: 1, existing: 0 });
    assert.equal((await meta.getArtifact('pypi', 'a-1'))?.digest, digest(1));
    const rows = await auditRows(meta);
    assert.deepEqual(
      rows.map((r) => [r.action, r.subject, r.detail]),
      [['test.write', 'a', '{\n  "subject": "a"\n}']],
    );
    assert.deepEqual(await meta.auditHead(), { count: 1, hash: rows[0]!.hash });
  });

  it('a throw rolls back the state and the entry, and the throw passes through unchanged', async (meta) => {
    await audited(meta, event('before'), (tx, because) => tx.putArtifacts([record('pypi', 'a', '1')], null, because));
    const head = await meta.auditHead();
    const boom = new Error('boom');
    await assert.rejects(
      meta.transaction(async (tx) => {
        const because = await tx.audit(event('lost'));
        await tx.putArtifacts([record('pypi', 'b', '1')], null, because);
        await tx.setRef('pypi', 'b', 'r', 'v', because);
        await tx.setTrustPolicy('{}', 'trust.yaml', because);
        await tx.createToken('lost', 'reader', 'h-lost', because);
        await tx.recordImport({ bundleId: null, source: 'x.airlock', volumes: [1], outcome: 'staged' });
        assert.ok(await tx.getArtifact('pypi', 'b-1'), 'a transaction reads its own writes');
        throw boom;
      }),
      (e) => e === boom,
    );
    assert.equal(await meta.getArtifact('pypi', 'b-1'), undefined);
    assert.deepEqual(await meta.listRefs('pypi', 'b'), []);
    assert.equal(await meta.trustPolicy(), undefined);
    assert.equal(await meta.getToken('lost'), undefined);
    assert.deepEqual(await meta.listImports(), []);
    assert.deepEqual(await meta.auditHead(), head);
    assert.deepEqual(
      (await auditRows(meta)).map((r) => r.subject),
      ['before'],
    );
  });

  it('transactions run one at a time, and a read outside one waits for it', async (meta) => {
    const order: string[] = [];
    const held = gate();
    const first = meta.transaction(async (tx) => {
      order.push('first begins');
      const because = await tx.audit(event('first'));
      await tx.putArtifacts([record('pypi', 'a', '1')], null, because);
      await held.wait;
      order.push('first ends');
    });
    await settle();
    const second = meta.transaction(async (tx) => {
      order.push('second begins');
      assert.ok(await tx.getArtifact('pypi', 'a-1'), 'the second sees what the first committed');
      await tx.audit(event('second'));
      order.push('second ends');
    });
    const read = meta.getArtifact('pypi', 'a-1').then((a) => {
      order.push('read');
      return a;
    });
    await settle();
    assert.deepEqual(order, ['first begins'], 'nothing runs on the store while a transaction is open');
    held.open();
    await Promise.all([first, second]);
    assert.ok(await read, 'the read saw the committed artifact');
    assert.deepEqual(order.slice(0, 2), ['first begins', 'first ends'], order.join(', '));
    const second0 = order.indexOf('second begins');
    assert.deepEqual(order.slice(second0, second0 + 2), ['second begins', 'second ends'], `the second ran whole: ${order.join(', ')}`);
    assert.equal(order.length, 5, order.join(', '));
    assert.deepEqual(
      (await auditRows(meta)).map((r) => r.subject),
      ['first', 'second'],
    );
  });

  it('a read made while a transaction is open never sees its writes, when it then rolls back', async (meta) => {
    const held = gate();
    const tx = meta.transaction(async (t) => {
      const because = await t.audit(event('doomed'));
      await t.putArtifacts([record('pypi', 'a', '1')], null, because);
      await held.wait;
      throw new Error('rolled back');
    });
    await settle();
    const read = meta.getArtifact('pypi', 'a-1');
    const walked = auditRows(meta);
    await settle();
    held.open();
    await assert.rejects(tx, /rolled back/);
    assert.equal(await read, undefined);
    assert.deepEqual(await walked, []);
  });

  it('a write must name an entry of its own transaction', async (meta) => {
    const foreign = await meta.transaction((tx) => tx.audit(event('elsewhere')));
    await assert.rejects(
      meta.transaction((tx) => tx.putArtifacts([record('pypi', 'a', '1')], null, foreign)),
      isCode('INTERNAL'),
    );
    assert.equal(await meta.getArtifact('pypi', 'a-1'), undefined);
    let leaked: Parameters<Parameters<MetadataStore['transaction']>[0]>[0] | undefined;
    const because = await meta.transaction(async (tx) => {
      leaked = tx;
      return tx.audit(event('used later'));
    });
    await assert.rejects(
      leaked!.putArtifacts([record('pypi', 'b', '1')], null, because),
      isCode('INTERNAL'),
      'a transaction is over once it ends',
    );
    await assert.rejects(
      meta.transaction(() => meta.transaction(async () => undefined)),
      isCode('INTERNAL'),
      'no transaction inside another',
    );
    assert.equal(await meta.getArtifact('pypi', 'b-1'), undefined);
  });

  it('putting the same artifact again counts it as existing', async (meta) => {
    const put = (records: ArtifactRecord[]) => audited(meta, event('put'), (tx, because) => tx.putArtifacts(records, null, because));
    assert.deepEqual(await put([record('pypi', 'a', '1')]), { added: 1, existing: 0 });
    assert.deepEqual(await put([record('pypi', 'a', '1'), record('pypi', 'a', '2', 2)]), { added: 1, existing: 1 });
    assert.equal((await meta.listArtifacts()).length, 2);
  });

  it('another digest under a stored key is a CONFLICT that rolls back the whole transaction', async (meta) => {
    await audited(meta, event('first'), (tx, because) => tx.putArtifacts([record('pypi', 'a', '1')], null, because));
    await assert.rejects(
      audited(meta, event('clash'), (tx, because) =>
        tx.putArtifacts([record('pypi', 'b', '1'), record('pypi', 'a', '1', 9)], null, because),
      ),
      (e) => isCode('CONFLICT')(e) && /pypi:a-1/.test((e as Error).message),
    );
    assert.equal(await meta.getArtifact('pypi', 'b-1'), undefined);
    assert.equal((await meta.getArtifact('pypi', 'a-1'))?.digest, digest(1));
    assert.deepEqual(
      (await auditRows(meta)).map((r) => r.subject),
      ['first'],
    );
    await audited(meta, event('token'), (tx, because) => tx.createToken('ci', 'publisher', 'h1', because));
    await assert.rejects(
      audited(meta, event('token again'), (tx, because) => tx.createToken('ci', 'reader', 'h2', because)),
      isCode('CONFLICT'),
    );
    assert.equal((await meta.getToken('ci'))?.role, 'publisher');
  });

  it('a bundle stages volume by volume and commits all its artifacts at once', async (meta) => {
    const row = { id: 'sha256:b', name: 'b', sequence: 1, creator: 'c', volumeCount: 2, artifactCount: 2, totalSize: 3 };
    await meta.transaction(async (tx) => {
      await tx.stageVolume(row, 2);
      await tx.stageVolume(row, 2);
      await tx.stageVolume(row, 1);
    });
    assert.deepEqual(await meta.receivedVolumes('sha256:b'), [1, 2]);
    assert.equal((await meta.getBundle('sha256:b'))?.status, 'staging');
    assert.deepEqual(await meta.listArtifacts(), []);
    const res = await audited(meta, event('import'), (tx, because) =>
      tx.commitBundle('sha256:b', [record('pypi', 'a', '1'), record('npm', 'c', '1', 2)], because),
    );
    assert.deepEqual(res, { added: 2, existing: 0 });
    assert.equal((await meta.getBundle('sha256:b'))?.status, 'imported');
    assert.deepEqual(
      (await meta.listArtifacts()).map((a) => [a.key, a.bundleId]),
      [
        ['c-1', 'sha256:b'],
        ['a-1', 'sha256:b'],
      ],
    );
  });

  it('artifacts list in (ecosystem, key) order, filtered by ecosystem and name; names are distinct and sorted', async (meta) => {
    await audited(meta, event('put'), (tx, because) =>
      tx.putArtifacts(
        [record('pypi', 'b', '2', 2), record('pypi', 'a', '1'), record('npm', 'z', '1', 3), record('pypi', 'b', '1', 4)],
        null,
        because,
      ),
    );
    assert.deepEqual(
      (await meta.listArtifacts()).map((a) => `${a.ecosystem}:${a.key}`),
      ['npm:z-1', 'pypi:a-1', 'pypi:b-1', 'pypi:b-2'],
    );
    assert.deepEqual(
      (await meta.listArtifacts({ ecosystem: 'pypi', name: 'b' })).map((a) => a.key),
      ['b-1', 'b-2'],
    );
    assert.deepEqual(await meta.listNames('pypi'), ['a', 'b']);
    const refs: string[] = [];
    for await (const r of meta.blobReferences()) refs.push(`${r.artifact} ${r.digest.slice(-1)}`);
    assert.deepEqual(refs, ['npm:z-1 3', 'pypi:a-1 1', 'pypi:b-1 4', 'pypi:b-2 2']);
    await audited(meta, event('delete'), (tx, because) => tx.deleteArtifacts('pypi', ['b-1', 'nope'], because)).then((n) =>
      assert.equal(n, 1),
    );
    assert.deepEqual(await meta.listNames('pypi'), ['a', 'b']);
  });

  it("refs are set, replaced and removed, and move the name's content revision", async (meta) => {
    const set = (value: string | null) =>
      audited(meta, event('ref'), (tx, because) => tx.setRef('npm', 'p', 'dist-tag:latest', value, because));
    const r0 = await meta.contentRevision('npm', 'p');
    await set('1.0.0');
    await set('2.0.0');
    assert.deepEqual(
      (await meta.listRefs('npm', 'p')).map((r) => [r.ref, r.value]),
      [['dist-tag:latest', '2.0.0']],
    );
    assert.ok((await meta.contentRevision('npm', 'p')) > r0);
    await set(null);
    assert.deepEqual(await meta.listRefs('npm', 'p'), []);
  });

  it('the audit log reads past a page, in order, from a time on; the chain holds across transactions and rollbacks', async (meta) => {
    const n = 1_203;
    for (let i = 0; i < n; i += 100) {
      await meta.transaction(async (tx) => {
        for (let j = i; j < Math.min(n, i + 100); j++) await tx.audit(event(`e${j}`));
      });
      await assert.rejects(
        meta.transaction(async (tx) => {
          await tx.audit(event('rolled back'));
          throw new Error('no');
        }),
      );
    }
    const rows = await auditRows(meta);
    assert.deepEqual(
      rows.map((r) => r.subject),
      Array.from({ length: n }, (_, i) => `e${i}`),
    );
    assert.deepEqual(checkChain(rows, await meta.auditHead()), { ok: true, count: n, head: rows.at(-1)!.hash });
    assert.deepEqual(
      (await meta.listAudit()).map((r) => r.hash),
      rows.map((r) => r.hash),
    );
    const from = rows[1_000]!.at;
    const since: string[] = [];
    for await (const r of meta.iterateAudit({ since: from })) since.push(r.subject);
    assert.deepEqual(
      since,
      rows.filter((r) => r.at >= from).map((r) => r.subject),
    );
  });

  it('tokens: created, found by hash, revoked with what they minted', async (meta) => {
    await audited(meta, event('mint'), async (tx, because) => {
      await tx.createToken('ci', 'publisher', 'h-ci', because);
      await tx.createToken('ci-child', 'publisher', 'h-child', because, (await tx.getToken('ci'))!.id);
      await tx.createToken('other', 'reader', 'h-other', because);
    });
    assert.equal((await meta.findActiveToken('h-child'))?.parent, 'ci');
    const r = await audited(meta, event('revoke'), (tx, because) => tx.revokeToken('ci', true, because));
    assert.deepEqual(r, { revoked: true, children: ['ci-child'] });
    assert.equal(await meta.findActiveToken('h-child'), undefined);
    assert.ok(await meta.findActiveToken('h-other'));
    assert.deepEqual(
      (await meta.listTokens()).map((t) => [t.name, t.revokedAt !== null]),
      [
        ['ci', true],
        ['ci-child', true],
        ['other', false],
      ],
    );
  });

  it('trust policies: the latest is in force', async (meta) => {
    await audited(meta, event('trust'), (tx, because) => tx.setTrustPolicy('{"v":1}', 'a.yaml', because));
    await audited(meta, event('trust'), (tx, because) => tx.setTrustPolicy('{"v":2}', 'b.yaml', because));
    const p = await meta.trustPolicy();
    assert.deepEqual([p?.policy, p?.source], ['{"v":2}', 'b.yaml']);
  });

  it('creator sequences: the next per creator, the same for a lock bundled again, old numbers adopted', async (meta) => {
    const next = (creator: string, lock: string) => meta.transaction((tx) => tx.sequenceFor(creator, lock));
    assert.equal(await next('alice', 'l1'), 1);
    assert.equal(await next('alice', 'l2'), 2);
    assert.equal(await next('alice', 'l1'), 1);
    assert.equal(await next('bob', 'l1'), 1);
    await meta.transaction((tx) => tx.adoptSequences('alice', 9, { old: 5, l2: 7 }));
    assert.equal(await next('alice', 'l2'), 2, 'a lock keeps the number it was given here');
    assert.equal(await next('alice', 'old'), 5);
    assert.equal(await next('alice', 'l3'), 10);
    await meta.transaction((tx) => tx.adoptSequences('alice', 3, {}));
    assert.equal(await next('alice', 'l4'), 11, 'last never goes back');
    const both = await Promise.all([next('carol', 'x'), next('carol', 'y')]);
    assert.deepEqual(both.sort(), [1, 2], 'concurrent runs never share a number');
  });
}
