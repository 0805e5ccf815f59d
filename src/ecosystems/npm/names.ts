/** npm package names as registries accept new ones: lowercase, URL-safe, optionally `@scope/`. */
const NAME = /^(?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

export function isPackageName(name: string): boolean {
  return name.length <= 214 && NAME.test(name);
}

/** A name from a URL path: `@scope%2fname`, `@scope%2Fname` and `@scope/name` are one name. */
export function packageNameFromPath(raw: string): string | undefined {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  return isPackageName(name) ? name : undefined;
}

/** `@scope/name` 1.0.0 → `name-1.0.0.tgz`, the file name npm gives a tarball. */
export function tarballFile(name: string, version: string): string {
  return `${name.split('/').pop()}-${version}.tgz`;
}

/** The path a packument or tarball URL uses for a name: the scope's slash escaped, as npm sends it. */
export function escapedName(name: string): string {
  return name.replace('/', '%2f');
}

/**
 * npm's own rules for a user name (npm-user-validate): lowercase, URL-safe, not starting with
 * a dot, at most 214 characters. The name reaches the audit log, so nothing else gets in.
 */
export function isUserName(name: string): boolean {
  return name.length > 0 && name.length <= 214 && name === name.toLowerCase() && encodeURIComponent(name) === name && !name.startsWith('.');
}

/** A dist-tag as it can appear in a URL path segment and the audit log: URL-safe, at most 214 characters. */
export function isTagName(tag: string): boolean {
  return tag.length > 0 && tag.length <= 214 && encodeURIComponent(tag) === tag;
}

/** A client's value quoted in an error message: JSON-escaped and cut short, so a reply never echoes an unbounded or multi-line string. */
export function quoted(value: unknown, max = 100): string {
  const s = typeof value === 'string' ? value : String(value);
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}
