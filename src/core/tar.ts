import { Readable, type Writable } from 'node:stream';
import { once } from 'node:events';
import { AirlockError } from './errors.js';

/**
 * The only code in airlock that touches tar bytes. The writer emits plain ustar with fixed
 * headers (byte-for-byte determinism); the reader accepts only what the writer could have
 * made — regular files and directories with safe names — because every archive it sees is
 * untrusted. Hand-written rather than tar-stream: the format subset is small, the checks
 * must sit on the raw headers, and it avoids a copy per chunk on multi-GiB entries.
 */

const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
const EMPTY = Buffer.alloc(0);
/** The two zero blocks that end every archive the writer makes. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
const OCTAL_SIZE_LIMIT = 8 ** 11; // 11 octal digits; larger sizes use GNU base-256

export interface TarWriter {
  addDirectory(name: string): Promise<void>;
  addBuffer(name: string, data: Uint8Array): Promise<void>;
  /** `size` is known in advance; a source yielding more or fewer bytes is an error. */
  addStream(name: string, size: number, source: Readable | NodeJS.ReadableStream): Promise<void>;
  /** Writes the end-of-archive blocks and ends the output. */
  finish(): Promise<void>;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

/** The exact header block the writer emits for an entry: the reader compares against it byte for byte. */
export function tarHeader(name: string, size: number, type: '0' | '5'): Buffer {
  if (Buffer.byteLength(name) > 100 || !/^[\x21-\x7e]+$/.test(name)) {
    throw new AirlockError('INTERNAL', `tar entry name "${name}" is not short printable ASCII`);
  }
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'ascii');
  h.write(octal(type === '5' ? 0o755 : 0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  if (size < OCTAL_SIZE_LIMIT) h.write(octal(size, 12), 124, 'ascii');
  else {
    h[124] = 0x80;
    h.writeBigUInt64BE(BigInt(size), 128);
  }
  h.write(octal(0, 12), 136, 'ascii');
  h.write(' '.repeat(8), 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(octal(0, 8), 329, 'ascii');
  h.write(octal(0, 8), 337, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** The zero bytes that fill an entry of `size` bytes to a whole block. */
export function tarPadding(size: number): Buffer {
  const rem = size % BLOCK;
  return rem === 0 ? Buffer.alloc(0) : ZERO_BLOCK.subarray(0, BLOCK - rem);
}

export function createTarWriter(output: Writable): TarWriter {
  const write = async (chunk: Uint8Array): Promise<void> => {
    // A failed output never drains: waiting for it would hang.
    if (output.errored) throw output.errored;
    if (chunk.length === 0) return;
    if (!output.write(chunk)) await once(output, 'drain');
  };
  return {
    async addDirectory(name) {
      await write(tarHeader(name, 0, '5'));
    },
    async addBuffer(name, data) {
      await write(tarHeader(name, data.length, '0'));
      await write(data);
      await write(tarPadding(data.length));
    },
    async addStream(name, size, source) {
      await write(tarHeader(name, size, '0'));
      let n = 0;
      for await (const chunk of source as AsyncIterable<Buffer>) {
        n += chunk.length;
        if (n > size) throw new AirlockError('INTERNAL', `tar entry ${name}: source is longer than ${size} bytes`);
        await write(chunk);
      }
      if (n !== size) throw new AirlockError('INTERNAL', `tar entry ${name}: source ended after ${n} of ${size} bytes`);
      await write(tarPadding(size));
    },
    async finish() {
      await write(END_OF_ARCHIVE);
      output.end();
    },
  };
}

export interface TarLimits {
  maxEntries: number;
  maxEntrySize: number;
  maxNameLength: number;
  maxDepth: number;
}

export const DEFAULT_TAR_LIMITS: TarLimits = {
  maxEntries: 1_000_000,
  maxEntrySize: 2 ** 40,
  maxNameLength: 255,
  maxDepth: 8,
};

export interface TarEntry {
  name: string;
  type: 'file' | 'directory';
  size: number;
  /** The raw header block, for a reader that knows which bytes a header must have. */
  header: Buffer;
  /** Must be consumed (or resumed) before the next entry is asked for. */
  readonly stream: Readable;
  /**
   * The same bytes without a stream around them (use one or the other): a volume of many small
   * blobs would otherwise leave a stream's worth of garbage per entry.
   */
  readonly chunks: AsyncIterable<Buffer>;
}

/** Pull-style access to a stream's bytes without copying body chunks. */
class ByteReader {
  private buf: Buffer = EMPTY;
  private readonly it: AsyncIterator<Buffer>;
  private ended = false;
  offset = 0;

  constructor(input: Readable) {
    this.it = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  /** The next chunk of input, or undefined at its end. */
  private async next(): Promise<Buffer | undefined> {
    if (this.ended) return undefined;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return undefined;
    }
    return r.value;
  }

  /**
   * Exactly `n` bytes, or fewer only at end of input. Only a header that straddles two chunks
   * is copied, and only its own bytes: joining the whole next chunk to the remainder would copy
   * a megabyte per boundary, garbage that a volume of many small blobs makes at every chunk.
   */
  async exact(n: number): Promise<Buffer> {
    let out: Buffer;
    if (this.buf.length >= n) {
      out = this.buf.subarray(0, n);
      this.buf = this.buf.subarray(n);
    } else {
      const parts = [this.buf];
      let have = this.buf.length;
      this.buf = EMPTY;
      while (have < n) {
        const c = await this.next();
        if (!c) break;
        const part = c.subarray(0, n - have);
        parts.push(part);
        have += part.length;
        this.buf = c.subarray(part.length);
      }
      out = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have);
    }
    this.offset += out.length;
    return out;
  }

  /** Between 1 and `n` bytes, or an empty buffer at end of input. */
  async upTo(n: number): Promise<Buffer> {
    while (this.buf.length === 0) {
      const c = await this.next();
      if (!c) return EMPTY;
      this.buf = c;
    }
    const out = this.buf.subarray(0, Math.min(n, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    this.offset += out.length;
    return out;
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

function field(h: Buffer, start: number, len: number): string {
  const raw = h.subarray(start, start + len);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? len : nul).toString('latin1');
}

function numeric(h: Buffer, start: number, len: number): number | undefined {
  if (h[start]! & 0x80) {
    let v = 0n;
    for (let i = start + 1; i < start + len; i++) v = (v << 8n) | BigInt(h[i]!);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
  }
  const s = field(h, start, len).trim();
  if (s === '') return 0;
  return /^[0-7]+$/.test(s) ? parseInt(s, 8) : undefined;
}

function checksumOk(h: Buffer): boolean {
  const stored = numeric(h, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return stored === sum;
}

const TYPE_NAMES: Record<string, string> = {
  '1': 'hard link',
  '2': 'symbolic link',
  '3': 'character device',
  '4': 'block device',
  '6': 'FIFO',
  '7': 'contiguous file',
  x: 'pax extended header',
  g: 'pax global header',
  L: 'GNU long name',
  K: 'GNU long link name',
};

/** Names are relative, '/'-separated, without '.', '..' or empty segments. */
function checkName(name: string, isDir: boolean, limits: TarLimits): string | undefined {
  if (name.length === 0) return 'empty name';
  if (name.length > limits.maxNameLength) return `name longer than ${limits.maxNameLength} characters`;
  if (name.startsWith('/')) return 'absolute path';
  if (name.includes('\\')) return 'backslash in name';
  if (/[\x00-\x1f\x7f]/.test(name)) return 'control character in name';
  const segments = (isDir && name.endsWith('/') ? name.slice(0, -1) : name).split('/');
  if (segments.includes('..')) return "'..' in path";
  if (segments.some((s) => s === '' || s === '.')) return "empty or '.' path segment";
  if (segments.length > limits.maxDepth) return `deeper than ${limits.maxDepth} levels`;
  return undefined;
}

/** Entry types an upstream archive may hold that airlock never extracts: skipped, their names still checked. */
const NOT_EXTRACTED = new Set(['1', '2', '3', '4', '6']);

/** What the extended headers before an upstream entry said about it. */
interface Extended {
  path?: string | undefined;
  size?: number | undefined;
}

/**
 * A non-zero header block checked as the reader must: checksum, type, name and size. Throws naming `label` and the byte offset.
 * `upstream` (the extended headers' path and size, which win over the header's) marks an upstream archive: links, devices and
 * FIFOs come back as `skip`, contiguous files as files.
 */
function parseTarHeader(
  h: Buffer,
  offset: number,
  label: string,
  limits: TarLimits = DEFAULT_TAR_LIMITS,
  upstream?: Extended,
): { name: string; kind: 'file' | 'directory' | 'skip'; size: number } {
  const invalid = (msg: string): AirlockError => new AirlockError('BUNDLE_INVALID', `${label}: ${msg}`);
  const unsafe = (name: string, msg: string): AirlockError => new AirlockError('BUNDLE_UNSAFE', `${label}: tar entry "${name}": ${msg}`);
  if (!checksumOk(h)) throw invalid(`damaged: bad header checksum at byte ${offset}`);
  // GNU headers (magic "ustar  ") keep times where ustar keeps the name prefix.
  const prefix = !upstream || h.toString('latin1', 257, 263) === 'ustar\0' ? field(h, 345, 155) : '';
  const base = field(h, 0, 100);
  const name = upstream?.path ?? (prefix ? `${prefix}/${base}` : base);
  const flag = String.fromCharCode(h[156]!);
  const isDir = flag === '5';
  const skip = upstream !== undefined && NOT_EXTRACTED.has(flag);
  if (!isDir && flag !== '0' && flag !== '\0' && !skip && !(upstream && flag === '7')) {
    throw unsafe(name, `${TYPE_NAMES[flag] ?? `entry type '${flag}'`} not allowed (only regular files and directories)`);
  }
  const bad = checkName(name, isDir, limits);
  if (bad) throw unsafe(name, bad);
  const size = upstream?.size ?? numeric(h, 124, 12);
  if (size === undefined) throw invalid(`damaged: entry "${name}" has an unreadable size`);
  if (size > limits.maxEntrySize) throw unsafe(name, `${size} bytes, over the ${limits.maxEntrySize}-byte limit`);
  if (isDir && size !== 0) throw unsafe(name, 'directory with content');
  // Readers disagree on whether such bytes are content or the next header: refuse rather than pick one.
  if (skip && size !== 0) throw invalid(`damaged: ${TYPE_NAMES[flag]} "${name}" with ${size} bytes of content`);
  return { name, kind: isDir ? 'directory' : skip ? 'skip' : 'file', size };
}

/** Most bytes of extended headers (pax, GNU long names) for one entry, or in one pax global header. */
const MAX_EXTENDED = 1 << 20;
const EXTENDED_TYPES = new Set(['x', 'g', 'L', 'K']);
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * POSIX pax records, `"%d %s=%s\n"`, the length counting the whole record. Returns the byte
 * offset of the first malformed record instead, so nothing is half-read.
 */
function paxRecords(body: Buffer): [string, string][] | number {
  const out: [string, string][] = [];
  for (let i = 0; i < body.length;) {
    const sp = body.indexOf(0x20, i);
    const digits = sp < 0 ? '' : body.toString('latin1', i, sp);
    if (!/^[1-9][0-9]{0,7}$/.test(digits)) return i;
    const end = i + Number(digits);
    if (end > body.length || sp >= end - 1 || body[end - 1] !== 0x0a) return i;
    const rec = body.subarray(sp + 1, end - 1);
    const eq = rec.indexOf(0x3d);
    if (eq <= 0) return i;
    try {
      out.push([UTF8.decode(rec.subarray(0, eq)), UTF8.decode(rec.subarray(eq + 1))]);
    } catch {
      return i;
    }
    i = end;
  }
  return out;
}

/** Whether a first block is a tar header at all (a zero block, a valid checksum, or the ustar magic), so "not a bundle" is told from "damaged". */
function looksLikeTarHeader(h: Buffer): boolean {
  return h.length === BLOCK && (h.equals(ZERO_BLOCK) || checksumOk(h) || h.toString('latin1', 257, 262) === 'ustar');
}

/**
 * How strictly an archive is read. `bundle`: airlock's own format, where every byte is
 * accounted for: ustar regular files and directories only, nothing after the end-of-archive
 * blocks. `upstream`: archives others made (sdists), read but never extracted. Tar tools pad
 * them with zeros to a whole record (10 KiB by default), so what follows the end-of-archive is
 * not read. Python writes PAX by default and GNU tar writes GNU headers, so pax extended
 * headers (`x`: their `path` and `size` apply to the next entry) and GNU long names (`L`) are
 * understood; GNU long link names (`K`) are read past, and pax global headers (`g`, such as git
 * archive's commit comment) are checked and ignored — one that sets `path` or `size` would
 * rename or resize every later entry, which readers do differently, so it is refused. Links,
 * devices and FIFOs are skipped: nothing is extracted, so they mean nothing, but their names
 * pass the same checks as any entry's.
 */
export type TarPolicy = 'bundle' | 'upstream';

/**
 * Reads an untrusted tar as entries, in archive order. An archive that ends without its
 * end-of-archive blocks is truncated, never a silent short read.
 */
export async function* readTar(
  input: Readable,
  opts: { label: string; limits?: Partial<TarLimits>; policy?: TarPolicy },
): AsyncGenerator<TarEntry> {
  const limits = { ...DEFAULT_TAR_LIMITS, ...opts.limits };
  const { label } = opts;
  const bundle = (opts.policy ?? 'bundle') === 'bundle';
  const notOne = bundle ? 'not an airlock bundle' : 'not a tar archive';
  const invalid = (msg: string): AirlockError => new AirlockError('BUNDLE_INVALID', `${label}: ${msg}`);
  const unsafe = (name: string, msg: string): AirlockError => new AirlockError('BUNDLE_UNSAFE', `${label}: tar entry "${name}": ${msg}`);
  const reader = new ByteReader(input);
  const seen = new Set<string>();
  let count = 0;
  // Extended headers read since the last entry (upstream only), applied to the next one.
  let pax: Extended | undefined;
  let longName: string | undefined;
  let longLink = false;
  let pendingBytes = 0;
  try {
    for (;;) {
      const h = await reader.exact(BLOCK);
      // A file that does not even start like a tar was never an archive: "truncated" would mislead.
      if (reader.offset === h.length) {
        if (h.length === 0) throw invalid(`${notOne} (the file is empty)`);
        // A real header with a bad checksum (ustar magic intact) is a damaged archive, below.
        if (!looksLikeTarHeader(h)) throw invalid(`${notOne} (no tar header at the start)`);
      }
      if (h.length === 0) throw invalid('truncated: the archive ends without its end-of-archive marker');
      if (h.length < BLOCK) throw invalid(`truncated: the archive ends inside a header at byte ${reader.offset}`);
      if (h.equals(ZERO_BLOCK)) {
        const second = await reader.exact(BLOCK);
        if (second.length < BLOCK || !second.equals(ZERO_BLOCK)) throw invalid('truncated: incomplete end-of-archive marker');
        if (pax || longName !== undefined || longLink)
          throw invalid('damaged: the archive ends with an extended header without the entry it describes');
        // In a bundle, bytes past the marker are covered by no header and no digest: a place to smuggle data.
        if (bundle && (await reader.upTo(1)).length > 0) throw invalid(`data after the end-of-archive marker at byte ${reader.offset - 1}`);
        input.resume();
        return;
      }
      const flag = String.fromCharCode(h[156]!);
      if (!bundle && EXTENDED_TYPES.has(flag)) {
        const at = reader.offset - BLOCK;
        const what = `${TYPE_NAMES[flag]} at byte ${at}`;
        if (!checksumOk(h)) throw invalid(`damaged: bad header checksum at byte ${at}`);
        const size = numeric(h, 124, 12);
        if (size === undefined) throw invalid(`damaged: ${what} has an unreadable size`);
        const total = (flag === 'g' ? 0 : pendingBytes) + size;
        if (total > MAX_EXTENDED)
          throw new AirlockError(
            'BUNDLE_UNSAFE',
            `${label}: ${what}: ${total} bytes, over the ${MAX_EXTENDED}-byte limit for an extended header`,
          );
        if (++count > limits.maxEntries)
          throw new AirlockError('BUNDLE_UNSAFE', `${label}: ${what}: more than ${limits.maxEntries} entries`);
        const body = await reader.exact(size);
        const pad = (BLOCK - (size % BLOCK)) % BLOCK;
        const fill = await reader.exact(pad);
        if (body.length < size || fill.length < pad) throw invalid(`truncated: the archive ends inside the ${what}`);
        if (fill.some((b) => b !== 0)) throw invalid(`damaged: non-zero padding after the ${what}`);
        if (flag !== 'g') pendingBytes = total;
        if (flag === 'x' || flag === 'g') {
          const records = paxRecords(body);
          if (typeof records === 'number') throw invalid(`damaged: bad pax record (byte ${records} of the extended header at byte ${at})`);
          if (flag === 'x' && pax) throw invalid(`damaged: two pax extended headers for one entry at byte ${at}`);
          for (const [key, value] of records) {
            // Sparse files in pax hide their real layout in these records: their bytes are not the file.
            if (key.startsWith('GNU.sparse.'))
              throw new AirlockError('BUNDLE_UNSAFE', `${label}: ${what}: GNU sparse files are not supported`);
            if (flag === 'g') {
              if (key === 'path' || key === 'size')
                throw new AirlockError('BUNDLE_UNSAFE', `${label}: ${what}: pax global header sets "${key}" for every entry`);
            } else if (key === 'path') pax = { ...pax, path: value === '' ? undefined : value };
            else if (key === 'size') {
              const n = /^[0-9]{1,16}$/.test(value) ? Number(value) : NaN;
              if (!Number.isSafeInteger(n)) throw invalid(`damaged: unreadable pax size "${value.slice(0, 40)}" in the ${what}`);
              pax = { ...pax, size: n };
            }
          }
          if (flag === 'x') pax ??= {};
        } else {
          if (flag === 'L' ? longName !== undefined : longLink)
            throw invalid(`damaged: two ${TYPE_NAMES[flag]}s for one entry at byte ${at}`);
          if (flag === 'K') longLink = true;
          else {
            const nul = body.indexOf(0);
            try {
              longName = UTF8.decode(nul < 0 ? body : body.subarray(0, nul));
            } catch {
              throw invalid(`damaged: the ${what} is not UTF-8`);
            }
          }
        }
        continue;
      }
      const upstream = bundle ? undefined : { path: pax?.path ?? longName, size: pax?.size };
      pax = longName = undefined;
      longLink = false;
      pendingBytes = 0;
      const { name, kind, size } = parseTarHeader(h, reader.offset - BLOCK, label, limits, upstream);
      const isDir = kind === 'directory';
      const key = name.endsWith('/') ? name.slice(0, -1) : name;
      if (seen.has(key)) throw unsafe(name, 'duplicate name');
      seen.add(key);
      if (++count > limits.maxEntries) throw unsafe(name, `more than ${limits.maxEntries} entries`);
      // Size is 0 (checked above): no body, no padding.
      if (kind === 'skip') continue;

      let left = size;
      const body = async function* (): AsyncGenerator<Buffer> {
        while (left > 0) {
          const chunk = await reader.upTo(left);
          if (chunk.length === 0) throw invalid(`truncated: the archive ends inside entry "${name}"`);
          left -= chunk.length;
          yield chunk;
        }
      };
      const chunks = body();
      let stream: Readable | undefined;
      yield {
        name,
        type: isDir ? 'directory' : 'file',
        size,
        header: h,
        chunks,
        get stream() {
          stream ??= Readable.from(chunks, { objectMode: false, highWaterMark: 1 << 20 });
          return stream;
        },
      };
      if (left > 0) {
        // The consumer skipped the body; read past it ourselves.
        if (stream && !stream.destroyed) stream.destroy();
        while (left > 0) {
          const chunk = await reader.upTo(left);
          if (chunk.length === 0) throw invalid(`truncated: the archive ends inside entry "${name}"`);
          left -= chunk.length;
        }
      }
      const pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (pad) {
        const fill = await reader.exact(pad);
        if (fill.length < pad) throw invalid(`truncated: the archive ends inside entry "${name}"`);
        if (fill.some((b) => b !== 0)) throw invalid(`damaged: non-zero padding after entry "${name}" at byte ${reader.offset - pad}`);
      }
    }
  } finally {
    await reader.close();
  }
}
