import type { Ecosystem } from '../ecosystem.js';
import { condaClientConfig } from './client-config.js';
import { resolveConda } from './resolve.js';
import { type CondaSection, condaSectionSchema } from './schema.js';
import { serveConda } from './serve.js';

/**
 * Conda packages: environments solved for the closed side's subdirs (or taken from explicit
 * files and locks), and channels at `/conda/<channel>/` that conda, mamba, pixi and rattler
 * use unchanged.
 */
export const condaEcosystem: Ecosystem<CondaSection> = {
  id: 'conda',
  manifest: { key: 'conda', schema: condaSectionSchema, resolve: resolveConda },
  serve: serveConda,
  clients: ['conda', 'mamba', 'micromamba', 'pixi', 'rattler'],
  clientConfig: (baseUrl, client) => condaClientConfig(baseUrl, client === 'pixi' || client === 'rattler' ? 'pixi' : 'conda'),
};
