import type { HttpClient } from '../../core/http.js';
import type { Ecosystem } from '../ecosystem.js';
import { bearerChallenge } from './challenge.js';
import { ociClientConfig } from './client-config.js';
import { MANIFEST_ACCEPT } from './media-types.js';
import { parseContentUrl, registryClient } from './registry-client.js';
import { type ImagesSection, type RegistriesSection, imagesSectionSchema, registriesSchema } from './schema.js';
import { sendOciError } from './errors.js';

/** The token (and, for manifests, the Accept) a registry wants for a blob `airlock fetch` downloads. */
async function fetchHeaders(url: string, http: HttpClient): Promise<Record<string, string>> {
  const target = parseContentUrl(url);
  if (!target) return {};
  const headers = await registryClient(http, target.base).authHeaders(target.path);
  return target.kind === 'manifests' ? { ...headers, accept: MANIFEST_ACCEPT } : headers;
}

/**
 * Container images: tags resolved to digests, indexes filtered to the target platforms
 * (the index kept byte for byte), referrers carried along, and a registry at `/v2/`.
 */
export const ociEcosystem: Ecosystem<ImagesSection, RegistriesSection> = {
  id: 'oci',
  prefix: '/v2/',
  errorBody: (reply, status, message) =>
    sendOciError(reply, status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'DENIED' : 'UNAVAILABLE', message),
  challenge: bearerChallenge,
  manifest: {
    key: 'images',
    schema: imagesSectionSchema,
    settings: { key: 'registries', schema: registriesSchema },
    resolve: async (section, ctx, settings) => (await import('./resolve.js')).resolveImages(section, ctx, settings),
  },
  serve: async (app, ctx) => (await import('./serve.js')).serveOci(app, ctx),
  clients: ['docker', 'podman', 'containerd'],
  clientConfig: ociClientConfig,
  fetchHeaders,
};
