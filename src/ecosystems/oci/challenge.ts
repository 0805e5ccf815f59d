/** A `WWW-Authenticate` challenge from a registry (RFC 9110 §11.6.1; the distribution token spec). */
export interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

/** Parses the first Bearer or Basic challenge; auth-params may be quoted strings with escapes. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(Bearer|Basic)\b\s*(.*)$/is.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const rest = m[2]!;
  let p: RegExpExecArray | null;
  while ((p = re.exec(rest))) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
    if (re.lastIndex >= rest.length) break;
  }
  return { scheme: m[1]!.toLowerCase() as Challenge['scheme'], params };
}

/** The URL a Bearer challenge sends us to for a token, with service and scope. */
export function tokenUrl(c: Challenge, scope: string): string | undefined {
  const realm = c.params.realm;
  if (!realm) return undefined;
  const u = new URL(realm);
  if (c.params.service) u.searchParams.set('service', c.params.service);
  u.searchParams.set('scope', scope);
  return u.toString();
}

/**
 * The challenge airlock's own registry sends: Bearer, so docker fetches a token (anonymous,
 * or for the credentials it holds) and offers it on every request. docker takes a Basic
 * challenge at the ping to mean "credentials always", and refuses to pull without them.
 */
export function bearerChallenge(origin: string): string {
  return `Bearer realm="${origin}/v2/token",service="airlock"`;
}
