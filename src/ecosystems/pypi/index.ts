import type { Ecosystem } from '../ecosystem.js';
import { pypiClientConfig } from './client-config.js';
import { type PypiSection, pypiSectionSchema } from './schema.js';

/**
 * Python packages: requirements resolved for the closed side's targets, and an index
 * (PEP 503/691/658) that serves imported and uploaded files together.
 */
export const pypiEcosystem: Ecosystem<PypiSection> = {
  id: 'pypi',
  manifest: {
    key: 'pypi',
    schema: pypiSectionSchema,
    resolve: async (section, ctx) => (await import('./resolve.js')).resolvePypi(section, ctx),
  },
  serve: async (app, ctx) => (await import('./serve.js')).servePypi(app, ctx),
  clients: ['pip', 'uv', 'twine'],
  clientConfig: pypiClientConfig,
};
