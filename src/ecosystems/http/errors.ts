/** Shared HTTP pieces every ecosystem's routes use (the server wires them, ecosystems own them). */
import type { FastifyReply } from 'fastify';

/** Every error body the server sends has this one shape. */
export function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).type('application/json').send({ error: { code, message } });
}

/** Half of a UTF-16 pair without its other half: encodeURIComponent refuses it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A text made fit for an HTTP header value: printable ASCII stays, everything else (CR, LF,
 * NUL, other controls, anything beyond ASCII) and `%` itself is percent-encoded as UTF-8, so
 * text copied from a request can neither split the header nor make Node refuse it.
 */
export function headerSafe(text: string): string {
  return text.replace(LONE_SURROGATE, '\ufffd').replace(/[^\x20-\x24\x26-\x7e]+/gu, encodeURIComponent);
}
