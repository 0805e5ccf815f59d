/**
 * JSON from a client, an upstream or a bundle: nesting is checked on the raw text before
 * JSON.parse builds anything. Deep nesting parses fine and then overflows the stack of
 * whatever walks it (JSON.stringify, canonical JSON, a database write), leaving half-done work.
 */
export const MAX_JSON_DEPTH = 64;

export class JsonLimitError extends Error {}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/** The deepest nesting of arrays and objects, stopping early past `limit`. UTF-8 continuation bytes never equal these ASCII codes. */
export function jsonDepth(data: string | Uint8Array, limit = Number.POSITIVE_INFINITY): number {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return deepest;
}

/** JSON.parse, refusing documents nested deeper than `maxDepth` before parsing them. */
export function parseJsonBounded(data: string | Uint8Array, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonDepth(data, maxDepth) > maxDepth) throw new JsonLimitError(`nested deeper than ${maxDepth} levels`);
  return JSON.parse(typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
}
