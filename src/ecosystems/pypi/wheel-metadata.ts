import { inflateRawSync } from 'node:zlib';
import { AirlockError } from '../../core/errors.js';

/** Reads bytes `start..end` (inclusive) of the archive. */
export type RangeReader = (start: number, end: number) => Promise<Buffer>;

const MAX_METADATA = 16 << 20;
/** The end of an archive that holds its end records: the largest EOCD with its comment. */
export const ZIP_TAIL = 0xffff + 22;
const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

interface Directory {
  offset: number;
  size: number;
}

function bad(label: string, msg: string): AirlockError {
  return new AirlockError('UPSTREAM_INVALID', `${label}: not a valid ${label.endsWith('.zip') ? 'zip archive' : 'wheel'}: ${msg}`);
}

/** Finds the central directory from the end records (ZIP64 when the classic fields overflow). */
async function centralDirectory(read: RangeReader, size: number, label: string): Promise<Directory> {
  const tailStart = Math.max(0, size - ZIP_TAIL);
  const tail = await read(tailStart, size - 1);
  let at = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      at = i;
      break;
    }
  }
  if (at < 0) throw bad(label, 'no end of central directory record');
  let offset = tail.readUInt32LE(at + 16);
  let cdSize = tail.readUInt32LE(at + 12);
  if (offset === 0xffffffff || cdSize === 0xffffffff) {
    const loc = at - 20;
    if (loc < 0 || tail.readUInt32LE(loc) !== ZIP64_LOCATOR) throw bad(label, 'missing ZIP64 locator');
    const z64at = Number(tail.readBigUInt64LE(loc + 8));
    const z64 = await read(z64at, z64at + 55);
    if (z64.readUInt32LE(0) !== ZIP64_EOCD) throw bad(label, 'bad ZIP64 end record');
    cdSize = Number(z64.readBigUInt64LE(40));
    offset = Number(z64.readBigUInt64LE(48));
  }
  if (offset + cdSize > size) throw bad(label, 'central directory lies outside the file');
  return { offset, size: cdSize };
}

interface Entry {
  name: string;
  method: number;
  compressed: number;
  uncompressed: number;
  local: number;
}

/** Central directory entries, with ZIP64 extra fields applied. */
function entries(cd: Buffer, label: string): Entry[] {
  const out: Entry[] = [];
  let p = 0;
  while (p + 46 <= cd.length && cd.readUInt32LE(p) === CENTRAL) {
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    const e: Entry = {
      name: cd.subarray(p + 46, p + 46 + nameLen).toString('utf8'),
      method: cd.readUInt16LE(p + 10),
      compressed: cd.readUInt32LE(p + 20),
      uncompressed: cd.readUInt32LE(p + 24),
      local: cd.readUInt32LE(p + 42),
    };
    const extra = cd.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen);
    for (let x = 0; x + 4 <= extra.length;) {
      const id = extra.readUInt16LE(x);
      const len = extra.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        const next = (): number => {
          const v = Number(extra.readBigUInt64LE(q));
          q += 8;
          return v;
        };
        if (e.uncompressed === 0xffffffff) e.uncompressed = next();
        if (e.compressed === 0xffffffff) e.compressed = next();
        if (e.local === 0xffffffff) e.local = next();
      }
      x += 4 + len;
    }
    out.push(e);
    p += 46 + nameLen + extraLen + commentLen;
  }
  if (out.length === 0) throw bad(label, 'empty or unreadable central directory');
  return out;
}

/**
 * The bytes of a wheel's `*.dist-info/METADATA`, read by ranges (the tail, the central
 * directory, one entry) so a multi-GiB wheel is never read whole. These bytes are what
 * PEP 658 serves as `<file>.metadata`.
 */
export function readWheelMetadata(read: RangeReader, size: number, label: string): Promise<Buffer> {
  return readZipMember(read, size, label, /^[^/]+\.dist-info\/METADATA$/, '.dist-info/METADATA');
}

/** The one member of a zip archive whose name matches `pattern`, read by ranges. */
export async function readZipMember(read: RangeReader, size: number, label: string, pattern: RegExp, what: string): Promise<Buffer> {
  const dir = await centralDirectory(read, size, label);
  const all = entries(await read(dir.offset, dir.offset + dir.size - 1), label);
  const found = all.filter((e) => pattern.test(e.name));
  if (found.length !== 1) throw bad(label, `expected one ${what}, found ${found.length}`);
  const e = found[0]!;
  if (e.uncompressed > MAX_METADATA) throw bad(label, `${e.name} is ${e.uncompressed} bytes`);
  const header = await read(e.local, e.local + 29);
  if (header.readUInt32LE(0) !== LOCAL) throw bad(label, `bad local header for ${e.name}`);
  const start = e.local + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  const raw = e.compressed === 0 ? Buffer.alloc(0) : await read(start, start + e.compressed - 1);
  let data: Buffer;
  if (e.method === 0) data = raw;
  else if (e.method === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: MAX_METADATA });
    } catch {
      throw bad(label, `${e.name} does not inflate`);
    }
  } else throw bad(label, `${e.name} uses compression method ${e.method}`);
  if (data.length !== e.uncompressed) throw bad(label, `${e.name} is ${data.length} bytes, the directory says ${e.uncompressed}`);
  return data;
}
