import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { Store } from '../../src/core/store.js';
import { type ServerOptions, buildServer } from '../../src/server/app.js';
import { tempDir } from './tmp.js';

/** A server over a new, empty store, for fastify's inject; both are closed when the test ends. */
export async function emptyServer(t: TestContext, opts: Partial<Omit<ServerOptions, 'store'>> = {}) {
  const store = await Store.open(join(await tempDir(t), 'home'));
  const server = await buildServer({ store, baseUrl: 'http://mirror', auth: 'none', ...opts });
  t.after(async () => {
    await server.close();
    await store.close();
  });
  return { store, server };
}
