import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendBlob } from '../http/blob.js';
import { sendError } from '../http/errors.js';
import type { ServeContext } from '../ecosystem.js';
import { checkServedPath } from './paths.js';

const PREFIX = '/files/';

/** The served path from the raw URL, decoded once; undefined when it is not a safe relative path. */
function servedPath(url: string): string | undefined {
  const raw = url.split('?')[0]!.slice(PREFIX.length);
  let decoded: string;
  try {
    decoded = raw.split('/').map(decodeURIComponent).join('/');
  } catch {
    return undefined;
  }
  return checkServedPath(decoded) ? undefined : decoded;
}

/**
 * `/files/<path>`: paths map to blobs through the database only; the filesystem is never
 * addressed by a client's path. A path may get new content in a later store, so clients
 * revalidate (no-cache) against the ETag.
 */
export function serveFiles(app: FastifyInstance, ctx: ServeContext): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const path = servedPath(req.url);
    if (!path) return sendError(reply, 404, 'NOT_FOUND', 'no such file');
    const a = await ctx.store.meta.getArtifact('files', path);
    if (!a) return sendError(reply, 404, 'NOT_FOUND', `files/${path}: no such file`);
    return sendBlob(req, reply, ctx.store, a, { cacheControl: 'no-cache', contentType: 'application/octet-stream' });
  };
  app.route({ method: ['GET', 'HEAD'], url: `${PREFIX}*`, handler });
}
