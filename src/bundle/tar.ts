import { Readable, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { AirlockError } from '../core/errors.js';

/**
 * The only code in airlock that touches tar bytes.
 *
 * The writer emits POSIX ustar with every variable header field fixed, so the same entries
 * always give the same bytes. The reader treats every archive as hostile: it yields only
 * regular files and directories with safe relative names, enforces limits, and treats an
 * archive that stops early — even exactly between entries — as truncated.
 *
 * Hand-written rather than tar-stream: tar-stream silently accepts an archive that lacks its
 * end-of-archive blocks (so a volume cut at an entry boundary would read as complete), the
 * checks must sit on the raw headers, and body chunks pass through here without a copy.
 */

const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
/** The largest size an 11-digit octal field holds; beyond it sizes use GNU base-256. */
const MAX_OCTAL_SIZE = 8 ** 11 - 1;
/** ustar's name field; the writer never splits names into the prefix field. */
const MAX_WRITER_NAME = 100;
/** pax and GNU long-name bodies are buffered whole, so they get a small fixed cap. */
const MAX_META_SIZE = 64 << 10;

export interface TarLimits {
  maxEntries: number;
  maxEntrySize: number;
  maxNameLength: number;
  maxDepth: number;
}

export const DEFAULT_TAR_LIMITS: Readonly<TarLimits> = Object.freeze({
  maxEntries: 1_000_000,
  maxEntrySize: 2 ** 40,
  maxNameLength: 255,
  maxDepth: 8,
});

/* ----------------------------------------------------------------------------------------
 * Names, shared by both halves so the writer can never emit a name the reader refuses.
 * ------------------------------------------------------------------------------------- */

/** What is wrong with `name`, or undefined. Directory names end with exactly one '/'. */
function nameProblem(name: string, isDir: boolean, limits: TarLimits): string | undefined {
  if (name.length === 0 || name === '/') return 'empty name';
  if (name.length > limits.maxNameLength) return `name longer than ${limits.maxNameLength} characters`;
  if (name.includes('\0')) return 'NUL in name';
  // Printable ASCII only: no terminal escapes in messages, no Unicode look-alikes or
  // normalisation collisions when a consumer later maps names onto a filesystem.
  if (/[^\x20-\x7e]/.test(name)) return 'control or non-ASCII character in name';
  if (name.startsWith('/')) return 'absolute path';
  if (name.includes('\\')) return 'backslash in name';
  if (!isDir && name.endsWith('/')) return "file name ends with '/'";
  const segments = (isDir ? name.slice(0, -1) : name).split('/');
  if (segments.includes('..')) return "'..' in path";
  // './a' is refused rather than normalised: one spelling per path keeps duplicate
  // detection exact and matches what the writer emits.
  if (segments.includes('.')) return "'.' path segment";
  if (segments.includes('')) return 'empty path segment';
  if (segments.length > limits.maxDepth) return `deeper than ${limits.maxDepth} levels`;
  return undefined;
}

/** Quotes a hostile name for an error message: escaped, and cut short if long. */
function quote(name: string): string {
  return JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}…` : name);
}

/* ----------------------------------------------------------------------------------------
 * Writer
 * ------------------------------------------------------------------------------------- */

export interface TarWriter {
  /** `name` ends with '/'. */
  addDirectory(name: string): Promise<void>;
  addBuffer(name: string, data: Uint8Array): Promise<void>;
  /** `size` is known in advance; a source yielding more or fewer bytes is a SIZE_MISMATCH. */
  addStream(name: string, size: number, source: NodeJS.ReadableStream | Readable): Promise<void>;
  /** Writes the end-of-archive blocks, ends `output` and waits until it has flushed. */
  finish(): Promise<void>;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function writeSize(h: Buffer, size: number): void {
  if (size <= MAX_OCTAL_SIZE) h.write(octal(size, 12), 124, 'ascii');
  else {
    // GNU base-256: ustar's octal field stops at 8 GiB; GNU tar and bsdtar both read this.
    h[124] = 0x80;
    h.writeBigUInt64BE(BigInt(size), 128);
  }
}

function ustarHeader(name: string, size: number, isDir: boolean): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 'ascii');
  h.write(octal(isDir ? 0o755 : 0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  writeSize(h, size);
  h.write(octal(0, 12), 136, 'ascii'); // mtime
  h.write(isDir ? '5' : '0', 156, 'ascii');
  h.write('ustar\x0000', 257, 'ascii');
  h.write(octal(0, 8), 329, 'ascii'); // devmajor
  h.write(octal(0, 8), 337, 'ascii'); // devminor
  h.write(`${octal(checksum(h), 7)} `, 148, 'ascii');
  return h;
}

/** The ustar checksum: the header's byte sum with the checksum field read as spaces. */
function checksum(h: Buffer): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += h[i]!;
  for (let i = 156; i < BLOCK; i++) sum += h[i]!;
  return sum;
}

function padding(size: number): Buffer {
  return ZERO_BLOCK.subarray(0, (BLOCK - (size % BLOCK)) % BLOCK);
}

/** Resolves once `out` wants more; rejects if it fails or closes first instead of hanging. */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (err?: Error): void => {
      out.off('drain', onDrain).off('error', settle).off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => settle();
    const onClose = (): void => settle(out.errored ?? outputClosed());
    out.on('drain', onDrain).on('error', settle).on('close', onClose);
  });
}

function outputClosed(): AirlockError {
  return new AirlockError('IO_ERROR', 'tar output closed before the archive was complete');
}

function asBuffer(chunk: unknown, name: string): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new AirlockError('INTERNAL', `tar entry ${quote(name)}: source yields ${typeof chunk} chunks, not bytes`);
}

export function createTarWriter(output: Writable): TarWriter {
  const names = new Set<string>();
  let busy = false;
  let failed: unknown;
  let done = false;

  const write = async (chunk: Uint8Array): Promise<void> => {
    if (output.destroyed) throw output.errored ?? outputClosed();
    if (chunk.length > 0 && !output.write(chunk)) await drained(output);
  };

  /** Runs one operation; a failure mid-entry leaves a corrupt archive, so later calls refuse. */
  const exclusive = async (op: () => Promise<void>): Promise<void> => {
    if (failed !== undefined) throw new AirlockError('INTERNAL', 'tar writer: an earlier entry failed, the archive is incomplete', { cause: failed });
    if (busy || done) throw new AirlockError('INTERNAL', `tar writer: ${done ? 'already finished' : 'called while an entry is being written'}`);
    busy = true;
    try {
      await op();
    } catch (e) {
      failed = e;
      throw e;
    } finally {
      busy = false;
    }
  };

  const header = (name: string, size: number, isDir: boolean): Buffer => {
    const problem =
      nameProblem(name, isDir, { ...DEFAULT_TAR_LIMITS, maxNameLength: MAX_WRITER_NAME }) ??
      (isDir && !name.endsWith('/') ? "directory name must end with '/'" : undefined) ??
      (names.has(name) ? 'duplicate name' : undefined) ??
      (Number.isSafeInteger(size) && size >= 0 ? undefined : `invalid size ${size}`);
    if (problem) throw new AirlockError('INTERNAL', `tar entry ${quote(name)}: ${problem}`);
    names.add(name);
    return ustarHeader(name, size, isDir);
  };

  const copy = async (name: string, size: number, source: AsyncIterable<unknown>): Promise<void> => {
    let n = 0;
    for await (const raw of source) {
      const chunk = asBuffer(raw, name);
      n += chunk.length;
      if (n > size) throw new AirlockError('SIZE_MISMATCH', `tar entry ${quote(name)}: source is longer than the declared ${size} bytes`);
      await write(chunk);
    }
    if (n !== size) throw new AirlockError('SIZE_MISMATCH', `tar entry ${quote(name)}: source ended after ${n} of the declared ${size} bytes`);
  };

  return {
    addDirectory: (name) => exclusive(() => write(header(name, 0, true))),
    addBuffer: (name, data) =>
      exclusive(async () => {
        await write(header(name, data.length, false));
        await write(data);
        await write(padding(data.length));
      }),
    addStream: (name, size, source) =>
      exclusive(async () => {
        await write(header(name, size, false));
        await copy(name, size, source as AsyncIterable<unknown>);
        await write(padding(size));
      }),
    finish: () =>
      exclusive(async () => {
        await write(END_OF_ARCHIVE);
        done = true;
        output.end();
        await finished(output, { readable: false });
      }),
  };
}

/* ----------------------------------------------------------------------------------------
 * Reader
 * ------------------------------------------------------------------------------------- */

export interface TarEntry {
  name: string;
  type: 'file' | 'directory';
  size: number;
  /** The body; empty for directories. */
  stream: Readable;
}

/** Pulls exact byte counts out of a stream, handing body chunks on without copying them. */
class ByteSource {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<unknown>;
  private ended = false;
  /** Bytes handed out so far: the archive offset of the next byte. */
  offset = 0;

  constructor(input: Readable) {
    this.it = input[Symbol.asyncIterator]();
  }

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    const chunk = asBuffer(r.value, '(archive input)');
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return true;
  }

  private take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    this.offset += out.length;
    return out;
  }

  /** Exactly `n` bytes, or fewer only where the input ends. */
  async exact(n: number): Promise<Buffer> {
    while (this.buf.length < n && (await this.more()));
    return this.take(n);
  }

  /** Between 1 and `n` bytes, or none where the input ends. */
  async upTo(n: number): Promise<Buffer> {
    if (this.buf.length === 0) await this.more();
    return this.take(n);
  }
}

/**
 * One entry's body. It pulls from the shared source only when its consumer reads, so
 * memory stays bounded by the stream's high-water mark whatever the entry size.
 */
class BodyStream extends Readable {
  private pulling: Promise<void> | undefined;
  private detached = false;
  failure: unknown;

  constructor(
    private readonly source: ByteSource,
    public left: number,
    private readonly truncated: () => AirlockError,
  ) {
    super({ highWaterMark: 1 << 20 });
  }

  override _read(): void {
    if (this.left === 0) this.push(null);
    else if (!this.detached) this.pulling ??= this.pull();
  }

  private async pull(): Promise<void> {
    let chunk: Buffer;
    try {
      chunk = await this.source.upTo(this.left);
      if (chunk.length === 0) throw this.truncated();
    } catch (e) {
      this.failure = e;
      this.pulling = undefined;
      this.destroy(e as Error);
      return;
    }
    this.left -= chunk.length;
    this.pulling = undefined;
    if (this.detached) return;
    this.push(chunk);
    if (this.left === 0) this.push(null);
  }

  /** Stops pulling so the reader can take the source back; returns once no read is in flight. */
  async detach(): Promise<void> {
    this.detached = true;
    await this.pulling;
    if (this.failure !== undefined) throw this.failure;
    if (this.left > 0 && !this.destroyed) this.destroy();
  }
}

interface Header {
  offset: number;
  flag: string;
  name: string;
  size: number | undefined;
}

/** What pax ('x') and GNU long-name ('L') headers say about the entry that follows. */
interface Pending {
  path?: string;
  size?: number;
  longName?: string;
}

const TYPE_NAMES: Record<string, string> = {
  '1': 'hard link',
  '2': 'symbolic link',
  '3': 'character device',
  '4': 'block device',
  '6': 'FIFO',
  '7': 'contiguous file',
  g: 'pax global header',
  K: 'GNU long link name',
  S: 'GNU sparse file',
  V: 'GNU volume label',
  M: 'GNU multi-volume continuation',
  D: 'GNU dump directory',
};

function typeName(flag: string): string {
  return TYPE_NAMES[flag] ?? `entry type ${/^[\x21-\x7e]$/.test(flag) ? `'${flag}'` : `0x${flag.charCodeAt(0).toString(16).padStart(2, '0')}`}`;
}

/** A NUL-terminated header field; bytes after the NUL must be NULs too, or the name hides something. */
function textField(h: Buffer, start: number, len: number): string | undefined {
  const raw = h.subarray(start, start + len);
  const nul = raw.indexOf(0);
  if (nul >= 0 && raw.subarray(nul).some((b) => b !== 0)) return undefined;
  return raw.subarray(0, nul < 0 ? len : nul).toString('latin1');
}

/** An octal field (space or NUL padded) or GNU base-256; undefined when unreadable. */
function numericField(h: Buffer, start: number, len: number): number | undefined {
  if (h[start] === 0x80) {
    let v = 0n;
    for (let i = start + 1; i < start + len; i++) v = (v << 8n) | BigInt(h[i]!);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
  }
  const m = /^ *([0-7]*)[ \0]*$/.exec(h.subarray(start, start + len).toString('latin1'));
  if (!m) return undefined;
  return m[1] === '' ? 0 : Number.parseInt(m[1]!, 8);
}

const POSIX_MAGIC = Buffer.from('ustar\x0000', 'latin1');
const GNU_MAGIC = Buffer.from('ustar  \0', 'latin1');

/** Parses one non-zero header block; the error text says what is wrong, or '' when all is well. */
function parseHeader(h: Buffer, offset: number): Header | string {
  if (numericField(h, 148, 8) !== checksum(h)) return `damaged: bad header checksum at byte ${offset}`;
  const magic = h.subarray(257, 265);
  const posix = magic.equals(POSIX_MAGIC);
  if (!posix && !magic.equals(GNU_MAGIC)) return `not a ustar header at byte ${offset}`;
  const base = textField(h, 0, 100);
  // GNU headers keep timestamps where POSIX keeps the name prefix.
  const prefix = posix ? textField(h, 345, 155) : '';
  const name = base === undefined || prefix === undefined ? '\0' : prefix ? `${prefix}/${base}` : base;
  return { offset, flag: String.fromCharCode(h[156]!), name, size: numericField(h, 124, 12) };
}

/** Parses pax records (`<len> <key>=<value>\n`); undefined when malformed. */
function parsePax(body: Buffer): Map<string, string> | undefined {
  const out = new Map<string, string>();
  let at = 0;
  while (at < body.length) {
    const space = body.indexOf(0x20, at);
    const lenText = space > at ? body.subarray(at, space).toString('latin1') : '';
    const len = /^[1-9][0-9]{0,7}$/.test(lenText) ? Number(lenText) : 0;
    const end = at + len;
    if (len === 0 || end > body.length || body[end - 1] !== 0x0a) return undefined;
    const record = body.subarray(space + 1, end - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq <= 0) return undefined;
    out.set(record.slice(0, eq), record.slice(eq + 1));
    at = end;
  }
  return out;
}

export function readTar(input: Readable, opts: { label: string; limits?: Partial<TarLimits> }): AsyncIterable<TarEntry> {
  return entries(input, opts.label, { ...DEFAULT_TAR_LIMITS, ...opts.limits });
}

/**
 * Yields entries in archive order. Asking for the next entry skips whatever of the current
 * body was not read. Every failure is an AirlockError: BUNDLE_UNSAFE for what the archive
 * asks for (a link, a bad name, a limit), BUNDLE_INVALID for damage and truncation — which
 * includes an archive that ends without its two zero blocks.
 */
async function* entries(input: Readable, label: string, limits: TarLimits): AsyncGenerator<TarEntry> {
  const src = new ByteSource(input);
  const invalid = (msg: string): AirlockError => new AirlockError('BUNDLE_INVALID', `${label}: ${msg}`);
  const unsafe = (name: string, msg: string): AirlockError =>
    new AirlockError('BUNDLE_UNSAFE', `${label}: tar entry ${quote(name)}: ${msg}`);
  const truncatedIn = (name: string) => (): AirlockError => invalid(`truncated: archive ends inside entry ${quote(name)}`);
  const seen = new Map<string, 'file' | 'dir' | 'parent'>();
  let pending: Pending = {};
  let count = 0;
  let complete = false;

  const readBody = async (size: number, name: string): Promise<Buffer> => {
    const body = await src.exact(size);
    if (body.length < size) throw truncatedIn(name)();
    await skipPadding(size, name);
    return body;
  };
  const skipPadding = async (size: number, name: string): Promise<void> => {
    const pad = padding(size).length;
    if (pad > 0 && (await src.exact(pad)).length < pad) throw truncatedIn(name)();
  };

  /** Applies a pax or GNU long-name header to `pending`; the entry they describe comes next. */
  const readMeta = async (hd: Header, size: number): Promise<void> => {
    if (size > MAX_META_SIZE) throw unsafe(hd.name, `${typeName(hd.flag)} of ${size} bytes, over the ${MAX_META_SIZE}-byte limit`);
    const body = await readBody(size, hd.name);
    if (hd.flag === 'L') {
      if (pending.longName !== undefined) throw invalid(`two GNU long names in a row at byte ${hd.offset}`);
      pending.longName = body.toString('latin1').replace(/\0+$/, '');
      return;
    }
    if (pending.path !== undefined || pending.size !== undefined) throw invalid(`two pax headers in a row at byte ${hd.offset}`);
    const records = parsePax(body);
    if (!records) throw invalid(`malformed pax header at byte ${hd.offset}`);
    for (const [key, value] of records) {
      if (key.startsWith('GNU.sparse.')) throw unsafe(hd.name, 'sparse files not allowed');
      if (key === 'path') pending.path = value;
      if (key === 'size') {
        if (!/^[0-9]{1,16}$/.test(value) || !Number.isSafeInteger(Number(value))) throw invalid(`pax header at byte ${hd.offset} has an unreadable size`);
        pending.size = Number(value);
      }
    }
  };

  /** The entry `hd` describes, after every check on it; consumes `pending`. */
  const resolve = (hd: Header): { name: string; isDir: boolean; size: number } => {
    if (pending.path !== undefined && pending.longName !== undefined) throw invalid(`both a pax path and a GNU long name at byte ${hd.offset}`);
    let name = pending.path ?? pending.longName ?? hd.name;
    const size = pending.size ?? hd.size;
    pending = {};
    const isDir = hd.flag === '5';
    if (!isDir && hd.flag !== '0' && hd.flag !== '\0') throw unsafe(name, `${typeName(hd.flag)} not allowed (only regular files and directories)`);
    // Directory names are reported with one trailing '/', however the archive spelled them.
    if (isDir && !name.endsWith('/')) name += '/';
    const problem = nameProblem(name, isDir, limits);
    if (problem) throw unsafe(name, problem);
    if (++count > limits.maxEntries) throw unsafe(name, `more than ${limits.maxEntries} entries`);
    record(name, isDir);
    if (size === undefined) throw invalid(`damaged: entry ${quote(name)} has an unreadable size`);
    if (size > limits.maxEntrySize) throw unsafe(name, `${size} bytes, over the ${limits.maxEntrySize}-byte limit`);
    if (isDir && size !== 0) throw unsafe(name, 'directory with content');
    return { name, isDir, size };
  };

  /**
   * Refuses a second entry for one path, compared case-insensitively because a consumer may
   * map names onto a case-insensitive filesystem, and a path that runs through a file.
   */
  const record = (name: string, isDir: boolean): void => {
    const key = (isDir ? name.slice(0, -1) : name).toLowerCase();
    const before = seen.get(key);
    if (before === 'file' || before === 'dir' || (before === 'parent' && !isDir)) throw unsafe(name, 'duplicate name');
    seen.set(key, isDir ? 'dir' : 'file');
    for (let i = key.indexOf('/'); i >= 0; i = key.indexOf('/', i + 1)) {
      const parent = key.slice(0, i);
      if (seen.get(parent) === 'file') throw unsafe(name, `parent ${quote(name.slice(0, i))} is a file`);
      if (!seen.has(parent)) seen.set(parent, 'parent');
    }
  };

  /** After the two zero blocks only zero padding may follow (tar pads to whole records). */
  const checkTrailer = async (): Promise<void> => {
    for (let chunk = await src.upTo(1 << 20); chunk.length > 0; chunk = await src.upTo(1 << 20)) {
      if (chunk.some((b) => b !== 0)) throw invalid('data after the end-of-archive marker');
    }
  };

  /** The next header, or undefined at a complete end-of-archive marker. */
  const nextHeader = async (): Promise<Header | undefined> => {
    const offset = src.offset;
    const h = await src.exact(BLOCK);
    if (h.length === 0) throw invalid('truncated: missing end-of-archive marker');
    if (h.length < BLOCK) throw invalid(`truncated: archive ends inside a header at byte ${offset}`);
    if (h.equals(ZERO_BLOCK)) {
      const second = await src.exact(BLOCK);
      if (second.length < BLOCK) throw invalid('truncated: missing end-of-archive marker');
      if (!second.equals(ZERO_BLOCK)) throw invalid(`damaged: a lone zero block at byte ${offset}`);
      return undefined;
    }
    const parsed = parseHeader(h, offset);
    if (typeof parsed === 'string') throw invalid(parsed);
    return parsed;
  };

  try {
    for (let hd = await nextHeader(); hd; hd = await nextHeader()) {
      if (hd.flag === 'x' || hd.flag === 'L') {
        if (hd.size === undefined) throw invalid(`damaged: ${typeName(hd.flag)} at byte ${hd.offset} has an unreadable size`);
        await readMeta(hd, hd.size);
        continue;
      }
      const { name, isDir, size } = resolve(hd);
      const stream = new BodyStream(src, size, truncatedIn(name));
      yield { name, type: isDir ? 'directory' : 'file', size, stream };
      await stream.detach();
      while (stream.left > 0) {
        const chunk = await src.upTo(stream.left);
        if (chunk.length === 0) throw truncatedIn(name)();
        stream.left -= chunk.length;
      }
      await skipPadding(size, name);
    }
    if (pending.path !== undefined || pending.size !== undefined || pending.longName !== undefined) {
      throw invalid('an extended header is not followed by an entry');
    }
    await checkTrailer();
    complete = true;
  } finally {
    // An abandoned or refused archive is not read further.
    if (!complete) input.destroy();
  }
}
