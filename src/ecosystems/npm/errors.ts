import type { FastifyReply } from 'fastify';

/** npm prints `error` from a JSON body; the status decides what it does next. */
export function npmError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type('application/json').send({ error: message });
}
