/** The fields of a core metadata file (METADATA / PKG-INFO) the index needs. */
export interface CoreMetadata {
  name: string;
  version: string;
  requiresPython?: string;
}

/**
 * Reads the RFC 822-style header block of core metadata. Headers end at the first blank
 * line (the description body follows); continuation lines start with whitespace.
 */
export function parseCoreMetadata(text: string): CoreMetadata | undefined {
  const headers = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    if (/^[ \t]/.test(line) && last) {
      headers.set(last, `${headers.get(last)}\n${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    last = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(last)) headers.set(last, line.slice(colon + 1).trim());
  }
  const name = headers.get('name');
  const version = headers.get('version');
  if (!name || !version) return undefined;
  const requiresPython = headers.get('requires-python');
  return { name, version, ...(requiresPython ? { requiresPython } : {}) };
}
