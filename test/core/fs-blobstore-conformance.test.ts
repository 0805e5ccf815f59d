import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { digestOf, hexOf } from '../../src/core/digest.js';
import { FsBlobStore } from '../../src/core/fs-blobstore.js';
import { blobStoreConformance } from './blobstore-conformance.js';

const base = await mkdtemp(join(tmpdir(), 'airlock-fs-blobstore-'));
after(() => rm(base, { recursive: true, force: true }));

blobStoreConformance('filesystem', async () => {
  const home = await mkdtemp(join(base, 'home-'));
  return new FsBlobStore(join(home, 'blobs'), join(home, 'tmp'), join(home, 'staging'));
});

test('filesystem staging: an aborted staged write leaves no temp file; sweep removes those of dead writers', async () => {
  const home = await mkdtemp(join(base, 'home-'));
  const s = new FsBlobStore(join(home, 'blobs'), join(home, 'tmp'), join(home, 'staging'));
  const name = hexOf(digestOf('bundle'));
  const area = await s.staging(name);
  const w = await area.open(digestOf('x'));
  w.stream.write('part of x');
  await w.abort();
  assert.deepEqual(await readdir(join(home, 'staging', name)), []);

  // A writer killed mid-volume leaves its temp file; its pid is dead.
  const dead = join(home, 'staging', name, '.tmp-4194305-000000000000');
  await writeFile(dead, 'half');
  await (await s.staging(name)).sweep();
  assert.deepEqual(await readdir(join(home, 'staging', name)), []);
});

test('filesystem uploads: sweep removes an upload nothing wrote to for longer than the idle time', async () => {
  const home = await mkdtemp(join(base, 'home-'));
  const s = new FsBlobStore(join(home, 'blobs'), join(home, 'tmp'), join(home, 'staging'));
  const area = await s.uploads('oci');
  await area.append('old', Readable.from([Buffer.from('half a layer')]));
  await area.append('live', Readable.from([Buffer.from('the other half')]));
  const twoDaysAgo = new Date(Date.now() - 48 * 3600_000);
  await utimes(join(home, 'tmp', 'oci-uploads', 'old'), twoDaysAgo, twoDaysAgo);
  await area.sweep(24 * 3600_000);
  assert.deepEqual(await readdir(join(home, 'tmp', 'oci-uploads')), ['live']);
});
