import { Readable } from 'node:stream';
import type { ArtifactRecord } from '../../src/core/artifact.js';
import { digestOf } from '../../src/core/digest.js';
import type { Store } from '../../src/core/store.js';
import type { Lockfile } from '../../src/manifest/lockfile.js';

/** Puts `files` (served path → bytes) into the store's blobs and returns a lock for them. */
export async function seedLock(store: Store, files: Record<string, Buffer>, name = 'test'): Promise<Lockfile> {
  const artifacts: ArtifactRecord[] = [];
  for (const [path, data] of Object.entries(files)) {
    const digest = digestOf(data);
    await store.blobs.put(Readable.from([data]), path);
    artifacts.push({
      ecosystem: 'files',
      key: path,
      name: path,
      version: '',
      digest,
      size: data.length,
      source: `http://upstream.invalid/${path}`,
      metadata: {},
      blobs: [{ digest, size: data.length }],
    });
  }
  return { lockVersion: 1, name, target: { platforms: ['linux/amd64'], python: [] }, artifacts };
}

/** Deterministic pseudo-random bytes, so tests are repeatable and blobs don't compress away. */
export function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}
