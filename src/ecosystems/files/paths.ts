/**
 * The rules every served path keeps, whether airlock.yaml gives it as `path:`, it comes from
 * a URL's last segment, or a bundle carries it: one relative, '/'-separated name that can
 * never step out of `/files/` or mean two things to two readers.
 */
export function checkServedPath(path: string): string | undefined {
  if (path === '') return 'is empty';
  if (path.startsWith('/')) return 'must be relative (no leading /)';
  if (path.includes('\\')) return 'must use / not \\';
  if (/[\x00-\x1f\x7f]/.test(path)) return 'contains a control character';
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..')) return "has an empty, '.' or '..' segment";
  return undefined;
}

/**
 * The served path a URL gives when airlock.yaml names none: its last non-empty path segment,
 * percent-decoded, if that passes `checkServedPath`; else why not. Decoding can turn one
 * segment into several (`a%2f..%2fetc`), which is why the rules run on the decoded text.
 */
export function pathFromUrl(url: string): { path: string } | { problem: string } {
  const last = new URL(url).pathname.split('/').filter(Boolean).at(-1);
  if (last === undefined) return { problem: 'has no path segment to serve the file under' };
  let decoded: string;
  try {
    decoded = decodeURIComponent(last);
  } catch {
    return { problem: 'ends in a segment that is not valid percent-encoding' };
  }
  const bad = checkServedPath(decoded);
  return bad ? { problem: `ends in a segment that, decoded, ${bad}` } : { path: decoded };
}
