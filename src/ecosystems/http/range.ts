/** What to send for a GET given its Range / If-Range / If-None-Match headers (RFC 9110). */
export type RangeDecision =
  { kind: 'full' } | { kind: 'not-modified' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

export interface ConditionalHeaders {
  range?: string | undefined;
  ifRange?: string | undefined;
  ifNoneMatch?: string | undefined;
}

function etagMatches(list: string, etag: string): boolean {
  return list.trim() === '*' || list.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/**
 * Single byte ranges only; a multi-range request gets the whole body with 200, which the
 * RFC allows and every download client handles.
 */
export function decideRange(h: ConditionalHeaders, size: number, etag: string): RangeDecision {
  if (h.ifNoneMatch && etagMatches(h.ifNoneMatch, etag)) return { kind: 'not-modified' };
  if (!h.range) return { kind: 'full' };
  if (h.ifRange && h.ifRange.trim() !== etag) return { kind: 'full' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.range.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'full' };
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return { kind: 'unsatisfiable' };
    start = Math.max(size - suffix, 0);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return { kind: 'full' };
  }
  if (start >= size || size === 0) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}
