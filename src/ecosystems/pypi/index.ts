import type { Ecosystem } from '../ecosystem.js';
import { pypiClientConfig } from './client-config.js';
import { servePypi } from './serve.js';

/**
 * Python packages. Today: a hosted index (twine uploads, PEP 503/691/658 serving) that
 * imported pypi artifacts join; the manifest section and resolver come with issue 3.
 */
export const pypiEcosystem: Ecosystem = {
  id: 'pypi',
  serve: servePypi,
  clientConfig: pypiClientConfig,
};
