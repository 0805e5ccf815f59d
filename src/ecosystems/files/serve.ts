import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hexOf } from '../../core/digest.js';
import { sendError } from '../http/errors.js';
import { decideRange } from '../http/range.js';
import type { ServeContext } from '../ecosystem.js';
import { servedPathProblem } from './schema.js';

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
  return decoded && !servedPathProblem(decoded) ? decoded : undefined;
}

/**
 * `/files/<path>`: GET and HEAD with Range, ETag (the sha256) and Repr-Digest. Paths map to
 * blobs through the database only; the filesystem is never addressed by a client's path.
 */
export function serveFiles(app: FastifyInstance, ctx: ServeContext): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const path = servedPath(req.url);
    if (!path) return sendError(reply, 404, 'NOT_FOUND', 'no such file');
    const a = await ctx.store.meta.getArtifact('files', path);
    if (!a) return sendError(reply, 404, 'NOT_FOUND', `files/${path}: no such file`);
    const etag = `"${a.digest}"`;
    reply
      .header('etag', etag)
      .header('accept-ranges', 'bytes')
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff')
      .header('repr-digest', `sha-256=:${Buffer.from(hexOf(a.digest), 'hex').toString('base64')}:`)
      .type('application/octet-stream');
    const h = req.headers;
    const d = decideRange({ range: h.range, ifRange: h['if-range'] as string | undefined, ifNoneMatch: h['if-none-match'] }, a.size, etag);
    if (d.kind === 'not-modified') return reply.code(304).send();
    if (d.kind === 'unsatisfiable') {
      return reply.code(416).header('content-range', `bytes */${a.size}`).send();
    }
    const range = d.kind === 'partial' ? { start: d.start, end: d.end } : undefined;
    const length = range ? range.end - range.start + 1 : a.size;
    reply.header('content-length', length);
    if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${a.size}`);
    if (req.method === 'HEAD' || length === 0) return reply.send();
    return reply.send(await ctx.store.blobs.open(a.digest, range));
  };
  app.route({ method: ['GET', 'HEAD'], url: `${PREFIX}*`, handler });
}
