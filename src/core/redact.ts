/**
 * Query parameters that carry a credential by their name (tokens, API keys, S3/GCS/Azure
 * signed-URL signatures). Compared lowercased.
 */
const SECRET_PARAMS = new Set([
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'private_token',
  'key',
  'api_key',
  'apikey',
  'signature',
  'sig',
  'x-amz-signature',
  'x-amz-credential',
  'x-amz-security-token',
  'x-goog-signature',
  'x-goog-credential',
  'password',
  'passwd',
  'secret',
  'client_secret',
]);

function decoded(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** Whether a query parameter's name says its value is a credential. */
export function isSecretParam(name: string): boolean {
  return SECRET_PARAMS.has(decoded(name).trim().toLowerCase());
}

/** The names of the credential-carrying query parameters of a URL, as written. */
export function secretParamsOf(url: string): string[] {
  const query = /\?([^#]*)/.exec(url)?.[1] ?? '';
  return query
    .split(/[&;]/)
    .map((p) => p.split('=')[0]!)
    .filter((k) => k !== '' && isSecretParam(k));
}

/**
 * A URL fit for a message, a log line or a record: the user-info part becomes `***@`, the
 * values of credential-carrying query parameters `***`, and the token of conda's
 * `https://host/t/<token>/channel` form too. Works on the text as written, so
 * what is not secret reads as the user wrote it, and on text that is not a valid URL too.
 */
export function redactUrl(url: string, mask = '***'): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, `$1${mask}@`)
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^/?#]*\/t\/)[^/?#]+/i, `$1${mask}`)
    .replace(/([?&;])([^=&#;]*)=([^&#;]*)/g, (whole, sep: string, name: string) => (isSecretParam(name) ? `${sep}${name}=${mask}` : whole));
}
