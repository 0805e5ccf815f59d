/**
 * JSON found by position rather than built whole: a bundle manifest of tens of thousands of
 * artifacts parsed at once costs its text as a string and every entry as objects, together,
 * several times the bytes. Here the bytes are checked once to be what JSON.parse accepts,
 * then values are located by their offsets and each parsed alone when it is needed.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const LITERALS = [Buffer.from('true'), Buffer.from('false'), Buffer.from('null')];
/** What may follow a backslash in a JSON string, `u` aside: " \ / b f n r t. */
const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDigit = (c: number | undefined): boolean => c !== undefined && c >= ZERO && c <= NINE;
const isHex = (c: number | undefined): boolean => c !== undefined && (isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));

function skipSpace(b: Uint8Array, i: number): number {
  while (isSpace(b[i])) i++;
  return i;
}

/** The offset after the string opening at `i`, or -1 if it is not a valid JSON string. */
function stringAt(b: Uint8Array, i: number): number {
  if (b[i] !== QUOTE) return -1;
  for (i++; i < b.length; i++) {
    const c = b[i]!;
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      const e = b[++i];
      if (e === 0x75) {
        if (!(isHex(b[i + 1]) && isHex(b[i + 2]) && isHex(b[i + 3]) && isHex(b[i + 4]))) return -1;
        i += 4;
      } else if (e === undefined || !ESCAPES.has(e)) return -1;
    }
  }
  return -1;
}

function digitsAt(b: Uint8Array, i: number): number {
  const from = i;
  while (isDigit(b[i])) i++;
  return i > from ? i : -1;
}

/** A number, string or literal at `i`: the offset after it, or -1. */
function scalarAt(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === QUOTE) return stringAt(b, i);
  if (c === MINUS || isDigit(c)) {
    if (c === MINUS) i++;
    if (b[i] === ZERO) i++;
    else if ((i = digitsAt(b, i)) < 0) return -1;
    if (b[i] === DOT && (i = digitsAt(b, i + 1)) < 0) return -1;
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === PLUS || b[i] === MINUS) i++;
      if ((i = digitsAt(b, i)) < 0) return -1;
    }
    return i;
  }
  for (const l of LITERALS) {
    if (c === l[0] && b.length - i >= l.length && Buffer.compare(b.subarray(i, i + l.length), l) === 0) return i + l.length;
  }
  return -1;
}

/** After an object's `{` or `,`: the key, the colon, and the offset of its value; -1 if malformed. */
function memberAt(b: Uint8Array, i: number): number {
  i = stringAt(b, i);
  if (i < 0) return -1;
  i = skipSpace(b, i);
  return b[i] === COLON ? skipSpace(b, i + 1) : -1;
}

/** True when JSON.parse would accept the UTF-8 decoding of these bytes: the grammar of RFC 8259, nothing more. */
export function isJsonText(b: Uint8Array): boolean {
  const open: number[] = [];
  let i = skipSpace(b, 0);
  for (;;) {
    const c = b[i];
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      const close = c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY;
      i = skipSpace(b, i + 1);
      if (b[i] === close) i++;
      else {
        open.push(close);
        if (c === OPEN_OBJECT && (i = memberAt(b, i)) < 0) return false;
        continue;
      }
    } else if ((i = scalarAt(b, i)) < 0) return false;
    // A value ended: close what it ends, or go on to the next member or element.
    for (;;) {
      i = skipSpace(b, i);
      if (open.length === 0) return i === b.length;
      const close = open[open.length - 1]!;
      if (b[i] === close) {
        open.pop();
        i++;
      } else if (b[i] === COMMA) {
        i = skipSpace(b, i + 1);
        if (close === CLOSE_OBJECT && (i = memberAt(b, i)) < 0) return false;
        break;
      } else return false;
    }
  }
}

/** The offset after the value at `i` in bytes isJsonText accepted. */
function valueEnd(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c === QUOTE) return stringAt(b, i);
  if (c !== OPEN_OBJECT && c !== OPEN_ARRAY) return scalarAt(b, i);
  let depth = 0;
  for (; ; i++) {
    const x = b[i];
    if (x === QUOTE) i = stringAt(b, i) - 1;
    else if (x === OPEN_OBJECT || x === OPEN_ARRAY) depth++;
    else if ((x === CLOSE_OBJECT || x === CLOSE_ARRAY) && --depth === 0) return i + 1;
  }
}

/** Where a value lies: `start` inclusive, `end` exclusive. */
export interface Span {
  start: number;
  end: number;
}

/** The offset of the top-level value of bytes isJsonText accepted. */
export function topValue(b: Uint8Array): number {
  return skipSpace(b, 0);
}

/** The members of the object at `at` (checked bytes), in document order, duplicates included. */
export function* objectMembers(b: Uint8Array, at: number): Generator<{ key: Span; value: Span }> {
  let i = skipSpace(b, at + 1);
  if (b[i] === CLOSE_OBJECT) return;
  for (;;) {
    const key = { start: i, end: stringAt(b, i) };
    const start = skipSpace(b, skipSpace(b, key.end) + 1);
    const value = { start, end: valueEnd(b, start) };
    yield { key, value };
    i = skipSpace(b, value.end);
    if (b[i] !== COMMA) return;
    i = skipSpace(b, i + 1);
  }
}

/** The elements of the array at `at` (checked bytes), in order. */
export function* arrayElements(b: Uint8Array, at: number): Generator<Span> {
  let i = skipSpace(b, at + 1);
  if (b[i] === CLOSE_ARRAY) return;
  for (;;) {
    const span = { start: i, end: valueEnd(b, i) };
    yield span;
    i = skipSpace(b, span.end);
    if (b[i] !== COMMA) return;
    i = skipSpace(b, i + 1);
  }
}

/**
 * JSON.parse of one value of checked bytes. Spans start and end on ASCII bytes, so the text
 * decodes exactly as it does inside the whole document.
 */
export function parseSpan(b: Buffer, s: Span): unknown {
  return JSON.parse(b.toString('utf8', s.start, s.end));
}

export const isArrayAt = (b: Uint8Array, at: number): boolean => b[at] === OPEN_ARRAY;
export const isObjectAt = (b: Uint8Array, at: number): boolean => b[at] === OPEN_OBJECT;
