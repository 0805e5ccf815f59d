import type { Ecosystem } from '../ecosystem.js';
import { condaClientConfig } from './client-config.js';
import { type CondaSection, condaSectionSchema } from './schema.js';

/**
 * Conda packages: environments solved for the closed side's subdirs (or taken from explicit
 * files and locks), and channels at `/conda/<channel>/` that conda, mamba, pixi and rattler
 * use unchanged.
 */
export const condaEcosystem: Ecosystem<CondaSection> = {
  id: 'conda',
  manifest: {
    key: 'conda',
    schema: condaSectionSchema,
    resolve: async (section, ctx) => (await import('./resolve.js')).resolveConda(section, ctx),
  },
  serve: async (app, ctx) => (await import('./serve.js')).serveConda(app, ctx),
  clients: ['conda', 'mamba', 'micromamba', 'pixi', 'rattler'],
  clientConfig: (baseUrl, client) => condaClientConfig(baseUrl, client === 'pixi' || client === 'rattler' ? 'pixi' : 'conda'),
};
