import { z } from 'zod';
import { secretParamsOf } from '../core/redact.js';

/**
 * Why an upstream URL must not carry a credential, or undefined when it carries none. The
 * URL is written to airlock.lock, the bundle manifest (which crosses the gap and is kept on
 * the closed side), `bundle inspect` and the closed side's artifact records, so a password or
 * token in it would be copied everywhere; `credentials` says where this ecosystem takes them
 * from instead. `allowQuery` lets the caller accept credential-looking query parameters it
 * keeps out of every record itself (a files entry's `secretQuery`).
 */
export function urlCredentialProblem(url: string, credentials: string, allowQuery = false): string | undefined {
  if (!URL.canParse(url)) return undefined;
  const u = new URL(url);
  if (u.username || u.password)
    return `must not carry credentials (user:password@): it is written to airlock.lock and the bundle; ${credentials}`;
  return allowQuery ? undefined : secretQueryProblem(url, credentials);
}

/** Why a URL's query must not be recorded as written: a parameter whose name says it holds a credential. */
export function secretQueryProblem(url: string, credentials: string): string | undefined {
  const secret = secretParamsOf(url)[0];
  return secret === undefined
    ? undefined
    : `query parameter ${secret.slice(0, 40)} looks like a credential: it would be written to airlock.lock and the bundle; ${credentials}`;
}

/** An http:// or https:// URL with no credentials in it, as every upstream in airlock.yaml must be. */
export function httpUrlSchema(credentials: string, allowQuery = false) {
  return z.string().superRefine((u, ctx) => {
    if (!URL.canParse(u) || !/^https?:$/.test(new URL(u).protocol)) {
      ctx.addIssue({ code: 'custom', message: 'expected an http:// or https:// URL' });
      return;
    }
    const bad = urlCredentialProblem(u, credentials, allowQuery);
    if (bad) ctx.addIssue({ code: 'custom', message: bad });
  });
}
