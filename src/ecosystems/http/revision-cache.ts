import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../../core/store.js';

/**
 * Rendered pages (simple indexes, packuments), reused while the store's revision is
 * unchanged: the server keeps no state of its own that could go stale, yet does not rebuild
 * a page per request.
 */
export class PageCache {
  private readonly pages = new Map<string, { revision: string; body: Buffer; etag: string }>();

  async get(key: string, revision: string, render: () => Promise<Buffer | undefined>) {
    const hit = this.pages.get(key);
    if (hit && hit.revision === revision) return hit;
    const body = await render();
    if (!body) return undefined;
    const page = { revision, body, etag: `"${createHash('sha256').update(body).digest('hex')}"` };
    if (this.pages.size >= 10_000) this.pages.delete(this.pages.keys().next().value!);
    this.pages.set(key, page);
    return page;
  }
}

/**
 * A rendered page with its validators: `no-cache` (clients revalidate, the store may change),
 * the ETag, 304 on a matching If-None-Match, the exact Content-Type (a Buffer body gets no
 * charset added), and headers alone for HEAD.
 */
export function sendPage(req: FastifyRequest, reply: FastifyReply, page: { body: Buffer; etag: string }, contentType: string): FastifyReply {
  reply.header('content-type', contentType).header('etag', page.etag).header('cache-control', 'no-cache');
  if (req.headers['if-none-match'] === page.etag) return reply.code(304).send();
  reply.header('content-length', page.body.length);
  return reply.send(req.method === 'HEAD' ? undefined : page.body);
}

/**
 * A value built from the store (a registry's view of its images, a hub's repos), rebuilt
 * only when the store's revision moves.
 */
export function perRevision<T>(store: Store, build: () => Promise<T>): () => Promise<T> {
  let cached: { revision: string; value: T } | undefined;
  return async () => {
    const revision = await store.meta.revision();
    if (cached?.revision !== revision) cached = { revision, value: await build() };
    return cached.value;
  };
}
