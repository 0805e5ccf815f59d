import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Digest } from '../../core/digest.js';
import { hexOf } from '../../core/digest.js';
import type { Store } from '../../core/store.js';
import { decideRange } from './range.js';

/**
 * Sends one stored blob with the headers every download client relies on: Content-Length,
 * ETag (the sha256), Repr-Digest, Range / If-Range / If-None-Match. HEAD sends headers only.
 */
export async function sendBlob(
  req: FastifyRequest,
  reply: FastifyReply,
  store: Store,
  blob: { digest: Digest; size: number },
  opts: { cacheControl: string; contentType: string; etag?: string },
): Promise<FastifyReply> {
  const etag = opts.etag ?? `"${blob.digest}"`;
  reply
    .header('etag', etag)
    .header('accept-ranges', 'bytes')
    .header('cache-control', opts.cacheControl)
    .header('x-content-type-options', 'nosniff')
    .header('repr-digest', `sha-256=:${Buffer.from(hexOf(blob.digest), 'hex').toString('base64')}:`)
    .type(opts.contentType);
  const h = req.headers;
  const d = decideRange({ range: h.range, ifRange: h['if-range'] as string | undefined, ifNoneMatch: h['if-none-match'] }, blob.size, etag);
  if (d.kind === 'not-modified') return reply.code(304).send();
  if (d.kind === 'unsatisfiable') return reply.code(416).header('content-range', `bytes */${blob.size}`).send();
  const range = d.kind === 'partial' ? { start: d.start, end: d.end } : undefined;
  const length = range ? range.end - range.start + 1 : blob.size;
  reply.header('content-length', length);
  if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${blob.size}`);
  if (req.method === 'HEAD' || length === 0) return reply.send();
  return reply.send(await store.blobs.open(blob.digest, range));
}
