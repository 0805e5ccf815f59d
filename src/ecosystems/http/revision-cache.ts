import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../../core/store.js';

/**
 * When a page was made: the store's revision then, and how to ask the generation of what the
 * page is made of (one name's rows, or an ecosystem's), asked only once the revision moves.
 */
export interface Freshness {
  revision: string;
  content: () => Promise<number>;
}

export interface Page {
  revision: string;
  content: number;
  body: Buffer;
  etag: string;
}

/** What a page made of one name's rows (or, without a name, of a whole ecosystem's) depends on. */
export async function freshness(store: Store, ecosystem: string, name?: string): Promise<Freshness> {
  return { revision: await store.meta.revision(), content: () => store.meta.contentRevision(ecosystem, name) };
}

/** What a server keeps of rendered pages at most, whatever their number or size. */
export const PAGE_CACHE_BYTES = 64 << 20;

/**
 * Rendered pages (simple indexes, packuments), reused while what they are made of is
 * unchanged: the server keeps no state of its own that could go stale, yet does not rebuild
 * a page per request, nor every page after an import that touched a few. While the store's
 * revision stands a page is served as is; once it moves, the page's content generation is
 * asked (one indexed row), and only a page whose generation moved is rendered again. The
 * generation is read before rendering, so a page holds at least what its generation says.
 * Bounded by bytes, least recently used first out, so neither many small pages nor a few
 * huge ones grow the server.
 */
export class PageCache {
  private readonly pages = new Map<string, Page>();
  private held = 0;

  constructor(private readonly maxBytes = PAGE_CACHE_BYTES) {}

  /** Bytes of page bodies held now. */
  get bytes(): number {
    return this.held;
  }

  async get(key: string, fresh: Freshness, render: () => Promise<Buffer | undefined>): Promise<Page | undefined> {
    const hit = this.pages.get(key);
    if (hit && hit.revision === fresh.revision) return this.touch(key, hit);
    const content = await fresh.content();
    const held = this.pages.get(key);
    if (held && held.content === content) {
      held.revision = fresh.revision;
      return this.touch(key, held);
    }
    const body = await render();
    const stale = this.pages.get(key);
    if (stale) {
      this.pages.delete(key);
      this.held -= stale.body.length;
    }
    if (!body) return undefined;
    const page = { revision: fresh.revision, content, body, etag: `"${createHash('sha256').update(body).digest('hex')}"` };
    this.pages.set(key, page);
    this.held += body.length;
    for (const [oldest, p] of this.pages) {
      if (this.held <= this.maxBytes || oldest === key) break;
      this.pages.delete(oldest);
      this.held -= p.body.length;
    }
    return page;
  }

  private touch(key: string, page: Page): Page {
    this.pages.delete(key);
    this.pages.set(key, page);
    return page;
  }
}

/**
 * Pages that name the server's own origin (npm's tarball URLs) are rendered once with a
 * placeholder, and each request's origin goes in at send time: on a wildcard listen every
 * Host header names another origin, and a page per Host would let clients fill the cache.
 * The placeholder is random per server, so no published text can imitate it.
 */
export class OriginPages {
  readonly placeholder = `airlock-origin-${randomBytes(12).toString('hex')}`;
  private readonly split = new WeakMap<Page, { parts: Buffer[]; last?: { origin: string; body: Buffer; etag: string } }>();

  fill(page: Page, origin: string): { body: Buffer; etag: string } {
    let entry = this.split.get(page);
    if (!entry) {
      entry = { parts: splitOn(page.body, Buffer.from(this.placeholder)) };
      this.split.set(page, entry);
    }
    if (entry.last?.origin === origin) return entry.last;
    // Inside JSON strings: a Host header's quote or backslash must not end the string.
    const filler = Buffer.from(JSON.stringify(origin).slice(1, -1));
    const pieces: Buffer[] = [];
    entry.parts.forEach((part, i) => {
      if (i > 0) pieces.push(filler);
      pieces.push(part);
    });
    const body = Buffer.concat(pieces);
    entry.last = { origin, body, etag: `"${createHash('sha256').update(page.etag).update(origin).digest('hex')}"` };
    return entry.last;
  }
}

function splitOn(body: Buffer, marker: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let from = 0;
  for (let at = body.indexOf(marker); at >= 0; at = body.indexOf(marker, from)) {
    parts.push(body.subarray(from, at));
    from = at + marker.length;
  }
  parts.push(body.subarray(from));
  return parts;
}

/**
 * A rendered page with its validators: `no-cache` (clients revalidate, the store may change),
 * the ETag, 304 on a matching If-None-Match, the exact Content-Type (a Buffer body gets no
 * charset added), and headers alone for HEAD.
 */
export function sendPage(
  req: FastifyRequest,
  reply: FastifyReply,
  page: { body: Buffer; etag: string },
  contentType: string,
): FastifyReply {
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

/**
 * A value built from one ecosystem's rows (a conda channel view), rebuilt only when that
 * ecosystem's content generation moves, with the freshness pages rendered from it carry: the
 * value's own generation, so no page claims more than the value it was made from.
 */
export function perEcosystem<T>(store: Store, ecosystem: string, build: () => Promise<T>): () => Promise<{ value: T; fresh: Freshness }> {
  let cached: { revision: string; content: number; value: T } | undefined;
  return async () => {
    const revision = await store.meta.revision();
    if (cached?.revision !== revision) {
      const content = await store.meta.contentRevision(ecosystem);
      cached = cached?.content === content ? { ...cached, revision } : { revision, content, value: await build() };
    }
    const { value, content } = cached;
    return { value, fresh: { revision, content: async () => content } };
  };
}
