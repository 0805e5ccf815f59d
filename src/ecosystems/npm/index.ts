import type { Ecosystem } from '../ecosystem.js';
import { npmClientConfig } from './client-config.js';
import { serveNpm } from './serve.js';

/**
 * npm packages: a registry at `/npm/` that npm installs from and publishes to. It has no
 * airlock.yaml section yet: packages arrive by `npm publish` on the closed side.
 */
export const npmEcosystem: Ecosystem = {
  id: 'npm',
  serve: serveNpm,
  // npm audit POSTs a question; login PUTs credentials it checks itself.
  access: (method, path) => (path.startsWith('/npm/-/npm/v1/security/') ? 'read' : method === 'PUT' && path.startsWith('/npm/-/user/') ? 'open' : undefined),
  clients: ['npm'],
  clientConfig: npmClientConfig,
};
