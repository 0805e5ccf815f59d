import type { FastifyReply } from 'fastify';

/** Error codes of the OCI distribution spec (§ error codes), with their HTTP statuses. */
export const OCI_ERRORS = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  // distribution's, beyond the spec's list; docker and skopeo know them.
  TAG_INVALID: 400,
  UNAVAILABLE: 503,
} as const;

export type OciErrorCode = keyof typeof OCI_ERRORS;

/** The spec's error body: `{"errors":[{"code","message","detail"}]}`. */
export function sendOciError(
  reply: FastifyReply,
  code: OciErrorCode,
  message: string,
  detail?: unknown,
  status: number = OCI_ERRORS[code],
): FastifyReply {
  return reply
    .code(status)
    .type('application/json')
    .send({ errors: [{ code, message, ...(detail !== undefined ? { detail } : {}) }] });
}
