import type { HttpClient } from '../../core/http.js';
import type { Ecosystem } from '../ecosystem.js';
import { hfClientConfig } from './client-config.js';
import { hubToken } from './hub-client.js';
import { type HfSection, hfSectionSchema } from './schema.js';

/** The Hub token goes only to resolve URLs (gated repos); never into the lock. */
async function fetchHeaders(url: string, _http: HttpClient): Promise<Record<string, string>> {
  if (!/\/resolve\/[0-9a-f]{40}\//.test(url)) return {};
  const token = await hubToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/**
 * Hugging Face models and datasets: repositories pinned to a commit, and the Hub API subset
 * clients use at `/hf/` (HF_ENDPOINT).
 */
export const hfEcosystem: Ecosystem<HfSection> = {
  id: 'hf',
  manifest: {
    key: 'huggingface',
    schema: hfSectionSchema,
    resolve: async (section, ctx) => (await import('./resolve.js')).resolveHf(section, ctx),
  },
  serve: async (app, ctx) => (await import('./serve.js')).serveHf(app, ctx),
  // paths-info is a POST that only asks.
  access: (method, path) => (method === 'POST' && /^\/hf\/api\/(models|datasets)\/.+\/paths-info\//.test(path) ? 'read' : undefined),
  clients: ['hf', 'huggingface', 'transformers'],
  clientConfig: hfClientConfig,
  fetchHeaders,
};
