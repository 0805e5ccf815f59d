import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ByteRange } from '../../core/blobstore.js';
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
  if (length >= PUMPED && store.blobs.pump) return pumped(reply, store.blobs.pump.bind(store.blobs), blob.digest, range);
  return reply.send(await store.blobs.open(blob.digest, range));
}

/** From this size on a download goes through the store's pump (reused buffers) rather than a stream. */
const PUMPED = 1 << 20;

/**
 * Writes the response by hand: headers on the first chunk (so a blob missing from disk is
 * still an ordinary error answer), then each chunk handed back to the pump once the socket
 * has taken it. A client that goes away ends the pump through a failed write.
 */
async function pumped(
  reply: FastifyReply,
  pump: NonNullable<Store['blobs']['pump']>,
  digest: Digest,
  range: ByteRange | undefined,
): Promise<FastifyReply> {
  const res = reply.raw;
  // A write queued on a socket the client has closed may never call back: the close ends the pump.
  const closed = new Promise<never>((_, fail) => res.once('close', () => fail(new Error('the client went away'))));
  closed.catch(() => {});
  let started = false;
  try {
    await pump(digest, range, (chunk) => {
      if (!started) {
        started = true;
        reply.hijack();
        res.writeHead(reply.statusCode, reply.getHeaders() as Record<string, string | number>);
      }
      return Promise.race([new Promise<void>((ok, fail) => res.write(chunk, (e) => (e ? fail(e) : ok()))), closed]);
    });
  } catch (e) {
    if (!started) throw e;
    res.destroy();
    return reply;
  }
  res.end();
  return reply;
}
