import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Store } from '../../src/core/store.js';
import { tempDir } from './tmp.js';

/** A connected-side and a closed-side store in a fresh directory, closed after the test. */
export async function twoStores(t: TestContext): Promise<{ dir: string; low: Store; high: Store }> {
  const dir = await tempDir(t);
  const low = await Store.open(join(dir, 'low'));
  const high = await Store.open(join(dir, 'high'));
  t.after(async () => {
    await low.close();
    await high.close();
  });
  return { dir, low, high };
}
