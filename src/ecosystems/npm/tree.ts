import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AirlockError } from '../../core/errors.js';
import type { NpmConfig } from './npmrc.js';

interface ArboristTree {
  meta: { commit(): unknown };
}
interface ArboristInstance {
  buildIdealTree(opts: { add: string[]; saveType?: string }): Promise<ArboristTree>;
}
type ArboristClass = new (opts: Record<string, unknown>) => ArboristInstance;

/**
 * The package-lock npm itself would write for `npm install <packages>` in an empty project:
 * @npmcli/arborist resolves ranges, dist-tags, peers, aliases, optional and bundled
 * dependencies from the registry. Its lock keeps every platform's optional packages with
 * their `os`/`cpu`/`libc`, which the caller then filters for the targets.
 */
export async function idealLock(packages: readonly string[], cfg: NpmConfig, scratch: string): Promise<unknown> {
  // Loaded only when a manifest asks for packages: it is large, and nothing else needs it.
  const { default: Arborist } = (await import('@npmcli/arborist')) as unknown as { default: ArboristClass };
  const dir = await mkdtemp(join(scratch, 'npm-tree-'));
  try {
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'airlock-npm-tree', version: '0.0.0', private: true }));
    // npm-registry-fetch reads scoped registries and `//host/:_authToken` from the options, as from an .npmrc.
    const scoped = Object.fromEntries(Object.entries(cfg.scopes).map(([scope, url]) => [`${scope}:registry`, url]));
    const arb = new Arborist({
      path: dir,
      registry: cfg.registry,
      ...scoped,
      ...cfg.credentials,
      cache: join(scratch, 'npm-cache'),
      audit: false,
      fund: false,
      lockfileVersion: 3,
    });
    let tree: ArboristTree;
    try {
      tree = await arb.buildIdealTree({ add: [...packages], saveType: 'prod' });
    } catch (e) {
      const err = e as { code?: string; message?: string };
      throw new AirlockError(
        'CONFLICT',
        `npm: cannot resolve ${packages.join(', ')}: ${err.code ? `${err.code} ` : ''}${(err.message ?? String(e)).split('\n')[0]}`,
      );
    }
    return tree.meta.commit();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
