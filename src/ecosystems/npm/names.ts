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
