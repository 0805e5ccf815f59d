/**
 * Errors are values with a stable code. The CLI prints `message` (one line that names the
 * file or artifact and what is wrong) and `hint` when there is one, and exits with `exitCode`.
 */
export type ErrorCode =
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'LOCK_INVALID'
  | 'LOCK_STALE'
  | 'DIGEST_MISMATCH'
  | 'SIZE_MISMATCH'
  | 'HTTP_ERROR'
  | 'NETWORK_ERROR'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'BUNDLE_INVALID'
  /** An upstream sent something unusable at lock time (a wheel without METADATA, a manifest that does not parse): not the user's input, not a bundle. */
  | 'UPSTREAM_INVALID'
  | 'BUNDLE_UNSAFE'
  | 'BUNDLE_VERSION'
  | 'STORE_LOCKED'
  | 'STORE_CORRUPT'
  | 'AUTH_REQUIRED'
  | 'FORBIDDEN'
  | 'IO_ERROR'
  | 'CUSTODY_INVALID'
  | 'CUSTODY_REFUSED'
  | 'AUDIT_BROKEN'
  | 'INTERNAL';

export class AirlockError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  /** 1 for user errors and refusals, 2 for usage errors. */
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown; exitCode?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AirlockError';
    this.code = code;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? (code === 'USAGE' ? 2 : 1);
  }
}

export function isAirlockError(e: unknown): e is AirlockError {
  return e instanceof AirlockError;
}

/** A one-line description of any thrown value, for messages that wrap lower-level failures. */
export function describeError(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    return code && !e.message.includes(code) ? `${e.message} (${code})` : e.message;
  }
  return String(e);
}

/**
 * A token from a file for a message: JSON-quoted (so one line, control characters escaped)
 * and cut at `max` characters with `…`. Messages quote this much at most of what failed to
 * parse, so a file that is not what it should be (`-r /etc/shadow`, a pasted secret) is never
 * printed whole.
 */
export function quoteShort(s: string, max = 40): string {
  if (s.length <= max) return JSON.stringify(s);
  const end = /[\ud800-\udbff]/.test(s[max - 1]!) ? max - 1 : max;
  return JSON.stringify(`${s.slice(0, end)}…`);
}
