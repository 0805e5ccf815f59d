import type { Ecosystem } from '../ecosystem.js';
import { filesClientConfig } from './client-config.js';
import { resolveFiles } from './resolve.js';
import { checkServedPath } from './paths.js';
import { type FilesSection, filesSectionSchema } from './schema.js';
import { serveFiles } from './serve.js';

/** Plain files: fetched by URL, served at /files/<path> with Range. */
export const filesEcosystem: Ecosystem<FilesSection> = {
  id: 'files',
  manifest: { key: 'files', schema: filesSectionSchema, resolve: resolveFiles },
  checkArtifact: (a) => {
    const bad = checkServedPath(a.key);
    return bad && `key ${bad}`;
  },
  serve: serveFiles,
  clients: ['files', 'curl', 'wget'],
  clientConfig: filesClientConfig,
};
