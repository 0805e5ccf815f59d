import type { Ecosystem } from '../ecosystem.js';
import { pypiClientConfig } from './client-config.js';
import { resolvePypi } from './resolve.js';
import { type PypiSection, pypiSectionSchema } from './schema.js';
import { servePypi } from './serve.js';

/**
 * Python packages: requirements resolved for the closed side's targets, and an index
 * (PEP 503/691/658) that serves imported and uploaded files together.
 */
export const pypiEcosystem: Ecosystem<PypiSection> = {
  id: 'pypi',
  manifest: { key: 'pypi', schema: pypiSectionSchema, resolve: resolvePypi },
  serve: servePypi,
  clients: ['pip', 'uv', 'twine'],
  clientConfig: pypiClientConfig,
};
