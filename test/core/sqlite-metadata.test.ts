import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import type { ArtifactRecord } from '../../src/core/artifact.js';
import type { Digest } from '../../src/core/digest.js';
import { SqliteMetadataStore, artifactsQuery } from '../../src/core/sqlite-metadata.js';
import { tempDir } from '../helpers/tmp.js';
import { deleteArtifacts, putArtifacts, setRef } from '../helpers/meta.js';

const record = (ecosystem: string, name: string, version: string): ArtifactRecord => ({
  ecosystem,
  key: `${name}-${version}`,
  name,
  version,
  digest: `sha256:${'0'.repeat(63)}${version.length}` as Digest,
  size: 1,
  metadata: {},
  blobs: [],
});

test("one project's rows come from the (ecosystem, name, key) index, not a walk of the whole ecosystem", async (t) => {
  const path = join(await tempDir(t), 'airlock.db');
  const meta = new SqliteMetadataStore(path);
  t.after(() => meta.close());
  await putArtifacts(
    meta,
    ['a', 'b', 'c'].flatMap((n) => [record('pypi', n, '1'), record('pypi', n, '22')]),
    null,
  );
  const db = new DatabaseSync(path, { readOnly: true });
  t.after(() => db.close());
  const { sql, args } = artifactsQuery({ ecosystem: 'pypi', name: 'b' });
  const plan = db
    .prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .all(...args)
    .map((r) => String(r.detail));
  assert.deepEqual(plan.length, 1, plan.join('; '));
  assert.match(plan[0]!, /USING (COVERING )?INDEX artifacts_name_key \(ecosystem=\? AND name=\?\)/, plan.join('; '));
  assert.deepEqual(
    (await meta.listArtifacts({ ecosystem: 'pypi', name: 'b' })).map((a) => a.key),
    ['b-1', 'b-22'],
  );
});

test('contentRevision moves for the name and ecosystem a change touches, whoever commits it, and for nothing else', async (t) => {
  const path = join(await tempDir(t), 'airlock.db');
  const meta = new SqliteMetadataStore(path);
  t.after(() => meta.close());
  await putArtifacts(meta, [record('pypi', 'a', '1'), record('pypi', 'b', '1'), record('npm', 'c', '1')], null);
  const seen = async () => ({
    a: await meta.contentRevision('pypi', 'a'),
    b: await meta.contentRevision('pypi', 'b'),
    c: await meta.contentRevision('npm', 'c'),
    pypi: await meta.contentRevision('pypi'),
    npm: await meta.contentRevision('npm'),
  });
  const before = await seen();
  assert.equal(await meta.contentRevision('pypi', 'never'), 0);

  const other = new SqliteMetadataStore(path);
  await putArtifacts(other, [record('pypi', 'a', '22')], null);
  await other.close();
  const added = await seen();
  assert.notEqual(added.a, before.a, 'another process added a file to a');
  assert.notEqual(added.pypi, before.pypi);
  assert.deepEqual([added.b, added.c, added.npm], [before.b, before.c, before.npm], 'b and npm untouched');

  await deleteArtifacts(meta, 'pypi', ['a-22']);
  const deleted = await seen();
  assert.notEqual(deleted.a, added.a, 'a file of a deleted');
  assert.equal(deleted.b, added.b);

  await setRef(meta, 'npm', 'c', 'dist-tag:next', '1');
  const tagged = await seen();
  assert.notEqual(tagged.c, deleted.c, 'a ref of c set');
  await setRef(meta, 'npm', 'c', 'dist-tag:next', '1');
  const retagged = await seen();
  assert.notEqual(retagged.c, tagged.c, 'a ref of c rewritten');
  await setRef(meta, 'npm', 'c', 'dist-tag:next', null);
  const untagged = await seen();
  assert.notEqual(untagged.c, retagged.c, 'a ref of c removed');
  assert.deepEqual([untagged.a, untagged.b, untagged.pypi], [deleted.a, deleted.b, deleted.pypi], 'pypi untouched by npm refs');
});
