import type { Ecosystem } from '../ecosystem.js';
import { filesClientConfig } from './client-config.js';
import { checkServedPath } from './paths.js';
import { type FilesSection, filesSectionSchema } from './schema.js';

/** Plain files: fetched by URL, served at /files/<path> with Range. */
export const filesEcosystem: Ecosystem<FilesSection> = {
  id: 'files',
  manifest: {
    key: 'files',
    schema: filesSectionSchema,
    resolve: async (section, ctx) => (await import('./resolve.js')).resolveFiles(section, ctx),
  },
  checkArtifact: (a) => {
    const bad = checkServedPath(a.key);
    return bad && `key ${bad}`;
  },
  serve: async (app, ctx) => (await import('./serve.js')).serveFiles(app, ctx),
  clients: ['files', 'curl', 'wget'],
  clientConfig: filesClientConfig,
};
