/** Shared HTTP pieces every ecosystem's routes use (the server wires them, ecosystems own them). */
import type { FastifyReply } from 'fastify';

/** Every error body the server sends has this one shape. */
export function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).type('application/json').send({ error: { code, message } });
}
