import { Readable, type Writable } from 'node:stream';
import { once } from 'node:events';
import { AirlockError } from '../core/errors.js';

/**
 * The only code in airlock that touches tar bytes. The writer emits plain ustar with fixed
 * headers (byte-for-byte determinism); the reader accepts only what the writer could have
 * made — regular files and directories with safe names — because every archive it sees is
 * untrusted. Hand-written rather than tar-stream: the format subset is small, the checks
 * must sit on the raw headers, and it avoids a copy per chunk on multi-GiB entries.
 */

const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
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
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  private ended = false;
  offset = 0;

  constructor(input: Readable) {
    this.it = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    return true;
  }

  /** Exactly `n` bytes, or fewer only at end of input. */
  async exact(n: number): Promise<Buffer> {
    while (this.buf.length < n && (await this.more()));
    const out = this.buf.subarray(0, Math.min(n, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    this.offset += out.length;
    return out;
  }

  /** Between 1 and `n` bytes, or an empty buffer at end of input. */
  async upTo(n: number): Promise<Buffer> {
    if (this.buf.length === 0 && !(await this.more())) return Buffer.alloc(0);
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

/** A non-zero header block checked as the reader must: checksum, type, name and size. Throws naming `label` and the byte offset. */
function parseTarHeader(h: Buffer, offset: number, label: string, limits: TarLimits = DEFAULT_TAR_LIMITS): { name: string; isDir: boolean; size: number } {
  const invalid = (msg: string): AirlockError => new AirlockError('BUNDLE_INVALID', `${label}: ${msg}`);
  const unsafe = (name: string, msg: string): AirlockError => new AirlockError('BUNDLE_UNSAFE', `${label}: tar entry "${name}": ${msg}`);
  if (!checksumOk(h)) throw invalid(`damaged: bad header checksum at byte ${offset}`);
  const prefix = field(h, 345, 155);
  const base = field(h, 0, 100);
  const name = prefix ? `${prefix}/${base}` : base;
  const flag = String.fromCharCode(h[156]!);
  const isDir = flag === '5';
  if (!isDir && flag !== '0' && flag !== '\0') {
    throw unsafe(name, `${TYPE_NAMES[flag] ?? `entry type '${flag}'`} not allowed (only regular files and directories)`);
  }
  const bad = checkName(name, isDir, limits);
  if (bad) throw unsafe(name, bad);
  const size = numeric(h, 124, 12);
  if (size === undefined) throw invalid(`damaged: entry "${name}" has an unreadable size`);
  if (size > limits.maxEntrySize) throw unsafe(name, `${size} bytes, over the ${limits.maxEntrySize}-byte limit`);
  if (isDir && size !== 0) throw unsafe(name, 'directory with content');
  return { name, isDir, size };
}

/** Whether a first block is a tar header at all (a zero block, a valid checksum, or the ustar magic), so "not a bundle" is told from "damaged". */
function looksLikeTarHeader(h: Buffer): boolean {
  return h.length === BLOCK && (h.equals(ZERO_BLOCK) || checksumOk(h) || h.toString('latin1', 257, 262) === 'ustar');
}

/**
 * How strictly an archive is read. `bundle`: airlock's own format, where every byte is
 * accounted for, so nothing may follow the end-of-archive blocks. `upstream`: archives others
 * made (sdists), which tar tools pad with zeros to a whole record (10 KiB by default); what
 * follows the end-of-archive is not read.
 */
export type TarPolicy = 'bundle' | 'upstream';

/**
 * Reads an untrusted tar as entries, in archive order. An archive that ends without its
 * end-of-archive blocks is truncated, never a silent short read.
 */
export async function* readTar(input: Readable, opts: { label: string; limits?: Partial<TarLimits>; policy?: TarPolicy }): AsyncGenerator<TarEntry> {
  const limits = { ...DEFAULT_TAR_LIMITS, ...opts.limits };
  const { label } = opts;
  const bundle = (opts.policy ?? 'bundle') === 'bundle';
  const notOne = bundle ? 'not an airlock bundle' : 'not a tar archive';
  const invalid = (msg: string): AirlockError => new AirlockError('BUNDLE_INVALID', `${label}: ${msg}`);
  const unsafe = (name: string, msg: string): AirlockError =>
    new AirlockError('BUNDLE_UNSAFE', `${label}: tar entry "${name}": ${msg}`);
  const reader = new ByteReader(input);
  const seen = new Set<string>();
  let count = 0;
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
        // In a bundle, bytes past the marker are covered by no header and no digest: a place to smuggle data.
        if (bundle && (await reader.upTo(1)).length > 0) throw invalid(`data after the end-of-archive marker at byte ${reader.offset - 1}`);
        input.resume();
        return;
      }
      const { name, isDir, size } = parseTarHeader(h, reader.offset - BLOCK, label, limits);
      const key = name.endsWith('/') ? name.slice(0, -1) : name;
      if (seen.has(key)) throw unsafe(name, 'duplicate name');
      seen.add(key);
      if (++count > limits.maxEntries) throw unsafe(name, `more than ${limits.maxEntries} entries`);

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
