import type { Ecosystem } from '../ecosystem.js';
import { npmClientConfig } from './client-config.js';
import { npmError } from './errors.js';
import { type NpmSection, npmSectionSchema } from './schema.js';

/**
 * npm packages: package-locks pinned for the closed side's platforms, and a registry at
 * `/npm/` that serves imported and published packages together.
 */
export const npmEcosystem: Ecosystem<NpmSection> = {
  id: 'npm',
  manifest: {
    key: 'npm',
    schema: npmSectionSchema,
    resolve: async (section, ctx) => (await import('./resolve.js')).resolveNpm(section, ctx),
  },
  serve: async (app, ctx) => (await import('./serve.js')).serveNpm(app, ctx),
  // npm audit POSTs a question; login PUTs credentials it checks itself.
  access: (method, path) =>
    path.startsWith('/npm/-/npm/v1/security/') ? 'read' : method === 'PUT' && path.startsWith('/npm/-/user/') ? 'open' : undefined,
  errorBody: npmError,
  clients: ['npm'],
  clientConfig: npmClientConfig,
};
