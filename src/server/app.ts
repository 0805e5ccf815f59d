import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { audit } from '../audit/log.js';
import { artifactSummary } from '../core/artifact.js';
import { isAirlockError } from '../core/errors.js';
import type { AuditEvent, TokenRole } from '../core/metadata.js';
import type { Store } from '../core/store.js';
import { ECOSYSTEMS } from '../ecosystems/registry.js';
import { mintToken } from '../services/tokens.js';
import { authenticate, roleAllows } from './auth.js';
import { sendError } from '../ecosystems/http/errors.js';
import { JsonLimitError, parseJsonBounded } from '../core/json.js';

export interface ServerOptions {
  store: Store;
  /** The URL clients use, without a trailing slash; empty: the Host each request names. */
  baseUrl: string;
  /** `required`: every read needs a reader token. Writes always need a publisher token. */
  auth: 'none' | 'required';
  /** Request and error logs as JSON lines; without it the server logs nothing (tests build many servers). */
  logger?: { level: LogLevel; stream: NodeJS.WritableStream };
  /** Close a connection on which nothing has moved for this long (default IDLE_TIMEOUT_MS). */
  idleTimeoutMs?: number;
}

/**
 * A client that stops reading (or vanished without a FIN) would otherwise hold its socket,
 * and a large download's buffers, for ever, and keep a stopping server waiting. Five minutes:
 * long enough for the slowest real client to take one 1 MiB chunk and for the server to hash
 * a very large upload at its final PUT, short enough to bound what stalled clients cost.
 */
export const IDLE_TIMEOUT_MS = 300_000;

/** What a write refused for a busy store tells its client to wait; an import of a large bundle holds the lock for longer. */
const RETRY_AFTER_S = 5;

/** pino's levels (fastify's logger). */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const OPEN_PATHS = new Set(['/healthz']);

/** The path only: a query string may carry a token or a signed URL's signature. */
function pathOf(req: { url: string }): string {
  return req.url.split('?')[0]!;
}

function requestFields(req: { method: string; url: string }): { method: string; path: string } {
  return { method: req.method, path: pathOf(req) };
}

/** The ecosystem whose prefix a request path is under. */
function ownerOf(path: string) {
  return ECOSYSTEMS.find((e) => `${path}/`.startsWith(e.prefix ?? `/${e.id}/`));
}

/**
 * One line per request, when its response is done, instead of fastify's two (whose `req`
 * would be the whole URL): method, path, status, milliseconds; the request id is on every line.
 */
class RequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    const fields = { ...requestFields(req), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 };
    if (error) req.log.error({ ...fields, err: error }, 'request errored');
    else req.log.info(fields, 'request');
  }
}

/** One process, one port, every ecosystem under its own prefix; it only ever reads the store. */
export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const origin = (req: FastifyRequest) => opts.baseUrl || `${req.protocol}://${req.headers.host}`;
  const app = Fastify({
    logger: opts.logger ? { level: opts.logger.level, stream: opts.logger.stream, serializers: { req: requestFields } } : false,
    logController: new RequestLog(),
    // Unique across restarts, so an id an operator got from a 500 body finds one request in the logs.
    genReqId: () => randomUUID(),
    exposeHeadRoutes: false,
    return503OnClosing: true,
    connectionTimeout: opts.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
  });

  // Every JSON body a client sends, on any route: nesting is bounded before it is parsed (npm's
  // publish route has its own parser with its own size limit, built the same way).
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, body === '' ? undefined : parseJsonBounded(body as string));
    } catch (e) {
      done(
        Object.assign(new Error(e instanceof JsonLimitError ? `the body is ${e.message}` : 'the body is not JSON'), { statusCode: 400 }),
        undefined,
      );
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    const path = pathOf(req);
    if (OPEN_PATHS.has(path)) return;
    const owner = ownerOf(path);
    // An ecosystem may say what a request is: a POST that only reads (npm audit), or a login
    // that checks its own credentials.
    const kind = owner?.access?.(req.method, path) ?? (READ_METHODS.has(req.method) ? 'read' : 'write');
    if (kind === 'open') return;
    const needed: TokenRole | undefined = kind === 'write' ? 'publisher' : opts.auth === 'required' ? 'reader' : undefined;
    if (!needed) return;
    const token = await authenticate(req.headers.authorization, opts.store.meta);
    const deny = (status: 401 | 403, code: string, message: string) =>
      owner?.errorBody ? owner.errorBody(reply, status, message) : sendError(reply, status, code, message);
    if (!token) {
      reply.header('www-authenticate', owner?.challenge?.(origin(req)) ?? 'Basic realm="airlock"');
      return deny(401, 'UNAUTHORIZED', 'a valid token is required (Basic with the token as password, or Bearer)');
    }
    if (!roleAllows(token.role, needed)) {
      return deny(403, 'FORBIDDEN', `this needs a ${needed} token; "${token.name}" is a ${token.role}`);
    }
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'NOT_FOUND', `${req.method} ${pathOf(req)}: not found`));
  app.setErrorHandler((err: { statusCode?: number; message?: string }, req, reply) => {
    if (isAirlockError(err) && err.code === 'STORE_LOCKED') {
      // Another writer (an import, a long push) holds the store: the client may simply come back.
      const owner = ownerOf(pathOf(req));
      reply.header('retry-after', String(RETRY_AFTER_S));
      const message = `the store is busy with another write; retry after ${RETRY_AFTER_S} s`;
      return owner?.errorBody ? owner.errorBody(reply, 503, message) : sendError(reply, 503, 'UNAVAILABLE', message);
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status !== 500) return sendError(reply, status, 'BAD_REQUEST', String(err.message));
    req.log.error({ err, path: pathOf(req) }, 'internal error');
    return sendError(reply, 500, 'INTERNAL', `internal error (request ${req.id})`);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get<{ Querystring: { ecosystem?: string } }>('/api/artifacts', async (req) => {
    const rows = await opts.store.meta.listArtifacts(req.query.ecosystem ? { ecosystem: req.query.ecosystem } : {});
    return rows.map(artifactSummary);
  });

  const token = (header: string | undefined) => authenticate(header, opts.store.meta);
  const actor = async (header: string | undefined) => {
    const t = await token(header);
    return t ? `token:${t.name}` : 'anonymous';
  };
  const record = async (e: AuditEvent) => {
    await audit(opts.store, e);
  };
  const mint = (parent: string, base: string) => mintToken(opts.store, parent, base);
  for (const e of ECOSYSTEMS) await e.serve(app, { store: opts.store, origin, token, actor, audit: record, mintToken: mint });
  return app;
}
