import { createHash, randomBytes } from 'node:crypto';
import { type ReadStream, createReadStream, rmSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobInfo } from './blobstore.js';
import { HashingStream } from './digest.js';
import { AirlockError, describeError, isAirlockError } from './errors.js';
import { processAlive } from './write-lock.js';

/** A temp name beside `target`, so the final rename never crosses a filesystem. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** The pid that made a temp file (named by tempPathFor), or undefined for any other name. */
export function tempFileOwner(name: string): number | undefined {
  const m = /^\.tmp-(\d+)-/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Removes the temp files in `dir` whose writer has stopped (killed mid-upload, mid-import, a
 * power cut): nothing else ever would. Files of live processes, and names tempPathFor did not
 * make (resumable downloads), stay. Returns how many files and bytes went.
 */
export async function removeDeadTemps(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = tempFileOwner(name);
    if (pid === undefined || (pid !== process.pid && processAlive(pid))) continue;
    const path = join(dir, name);
    const size = (await stat(path).catch(() => undefined))?.size ?? 0;
    await rm(path, { force: true });
    files++;
    bytes += size;
  }
  return { files, bytes };
}

export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * The errors that mean "this filesystem or platform cannot sync a directory", not "the sync
 * failed": fsync(2) gives EINVAL for a descriptor that does not support synchronization, and
 * some network and FUSE filesystems ENOTSUP/EOPNOTSUPP; on Windows libuv cannot open a
 * directory as a file (EISDIR) or FlushFileBuffers refuses a directory handle (EPERM); some
 * platforms refuse fsync on a descriptor opened read-only (EBADF). Anything else (EIO above
 * all) means the rename may not be on the disk and must not pass silently.
 */
const FSYNC_DIR_HARMLESS = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EBADF', 'EPERM']);

export function fsyncDirHarmless(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && FSYNC_DIR_HARMLESS.has(code);
}

/**
 * A configuration file that may be absent (a credential file): undefined when it is not
 * there; CONFIG_INVALID naming it when it is there but cannot be read as UTF-8 text. The
 * message never quotes the content, which may be a secret.
 */
export async function readOptionalConfig(path: string): Promise<string | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new AirlockError('CONFIG_INVALID', `${path}: cannot be read (${code ?? describeError(e)})`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AirlockError('CONFIG_INVALID', `${path}: is not UTF-8 text`);
  }
}

/** Makes a rename durable: the directory entry must reach the disk too. */
export async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (!fsyncDirHarmless(e)) throw e;
  }
}

/** What an errno means to someone who named the path, for one-line messages. */
export function ioReason(e: unknown): string {
  switch ((e as NodeJS.ErrnoException | undefined)?.code) {
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOENT':
      return 'no such file or directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    case 'EISDIR':
      return 'is a directory';
    case 'EEXIST':
      return 'already exists';
    default:
      return describeError(e);
  }
}

/** An error from a system call (it has a syscall and an errno code), as opposed to a bug or a refusal. */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return typeof (e as NodeJS.ErrnoException | undefined)?.syscall === 'string';
}

function isErrno(e: unknown, ...codes: string[]): boolean {
  return codes.includes((e as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/**
 * Creates `dir` and its missing parents, or throws IO_ERROR naming `what` and the directory
 * that failed. Not `mkdir({recursive: true})`: on /proc and /sys that loops for ever (mkdir
 * says ENOENT while the parent exists).
 */
export async function ensureDir(dir: string, what = dir): Promise<void> {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    const s = await stat(d).catch((e: unknown) => {
      // ENOTDIR: some parent is a file; walking on up finds and names it.
      if (isErrno(e, 'ENOENT', 'ENOTDIR')) return undefined;
      throw new AirlockError('IO_ERROR', `${what}: cannot use ${d} (${ioReason(e)})`);
    });
    if (s?.isDirectory()) break;
    if (s) throw new AirlockError('IO_ERROR', `${what}: ${d} is not a directory`);
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    await mkdir(d).catch((e: unknown) => {
      if (isErrno(e, 'EEXIST')) return;
      // ENOENT with the parent present: a file system that takes no new entries (/proc).
      const why = isErrno(e, 'ENOENT') ? 'the file system there takes no new directories' : ioReason(e);
      throw new AirlockError('IO_ERROR', `${what}: cannot create directory ${d} (${why})`);
    });
  }
}

/**
 * Checks, before a byte is written, that a new file can be put at `path`: creates missing
 * parent directories, and refuses a directory, a device or other non-regular file, and a
 * place where no file can be created (read-only, no permission, /proc), in one line.
 */
export async function prepareOutput(path: string): Promise<void> {
  const s = await stat(path).catch(() => undefined);
  if (s?.isDirectory()) throw new AirlockError('IO_ERROR', `${path}: is a directory; give the name of the file to write`);
  if (s && !s.isFile())
    throw new AirlockError('IO_ERROR', `${path}: exists and is not a regular file; airlock writes a new file and renames it into place`);
  await ensureDir(dirname(path), path);
  const probe = tempPathFor(path);
  try {
    await (await open(probe, 'wx')).close();
  } catch (e) {
    const why = isErrno(e, 'ENOENT') ? 'the file system there takes no new files' : ioReason(e);
    throw new AirlockError('IO_ERROR', `${path}: cannot write in ${dirname(path)} (${why})`);
  } finally {
    await rm(probe, { force: true });
  }
}

/** Free bytes for an unprivileged writer on the file system holding `dir`, if it says. */
export async function freeSpace(dir: string): Promise<number | undefined> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/**
 * The one-line error for a failed write of `path`. Running out of space says how much the
 * file needed and how much was free, so the user knows how much room to make.
 */
export async function writeError(path: string, e: unknown, needed?: number): Promise<AirlockError> {
  if (isErrno(e, 'ENOSPC', 'EDQUOT')) {
    const free = await freeSpace(dirname(path));
    const need = needed === undefined ? '' : `: it needs ${needed} bytes`;
    const have = free === undefined ? '' : `, ${free} are free`;
    return new AirlockError('IO_ERROR', `${path}: ${ioReason(e)}${need}${have}; nothing was written`);
  }
  return new AirlockError('IO_ERROR', `${path}: cannot write (${ioReason(e)}); nothing was written`);
}

/** Writes `data` to `target` atomically: temp file, fsync, rename, fsync dir. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await prepareOutput(target);
  const tmp = tempPathFor(target);
  try {
    const fh = await open(tmp, 'w', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
    await fsyncDir(dirname(target));
  } catch (e) {
    await rm(tmp, { force: true });
    throw isAirlockError(e) ? e : await writeError(target, e, Buffer.byteLength(data));
  }
}

const interruptible = new Set<string>();

/**
 * Marks a file as this run's incomplete output: an interrupted run (SIGINT, SIGTERM) removes
 * it before exiting, so no half-written file or partial volume set is left looking complete.
 * The returned function unmarks it.
 */
export function removeOnInterrupt(path: string): () => void {
  interruptible.add(path);
  return () => interruptible.delete(path);
}

/** Removes every marked file and says how many there were; synchronous, because it runs in a signal handler just before exit. */
export function removeInterruptedOutputs(): number {
  const n = interruptible.size;
  for (const p of interruptible) rmSync(p, { force: true });
  interruptible.clear();
  return n;
}

/**
 * Opens a file a user named for streaming, or throws one line naming it: missing, a
 * directory, unreadable. Checked up front because a read stream on a directory fails only
 * at its first read, with EISDIR and no path.
 */
export async function openInputFile(path: string): Promise<ReadStream> {
  const s = await stat(path).catch((e: unknown) => {
    if (isErrno(e, 'ENOENT', 'ENOTDIR')) throw new AirlockError('NOT_FOUND', `${path}: no such file`);
    throw new AirlockError('IO_ERROR', `${path}: cannot read (${ioReason(e)})`);
  });
  if (s.isDirectory()) throw new AirlockError('IO_ERROR', `${path}: is a directory; name the file(s) inside it`);
  const fh = await open(path, 'r').catch((e: unknown) => {
    throw new AirlockError('IO_ERROR', `${path}: cannot read (${ioReason(e)})`);
  });
  return fh.createReadStream({ highWaterMark: 1 << 20 });
}

/** The sha256 digest and size of a whole file, read as a stream. */
export async function hashFile(path: string): Promise<BlobInfo> {
  const h = new HashingStream();
  await pipeline(createReadStream(path, { highWaterMark: 1 << 20 }), h, async (src: AsyncIterable<Buffer>) => {
    for await (const _ of src);
  });
  return { digest: h.digest(), size: h.size };
}

/**
 * A file's digest in another algorithm than the store's, for what upstreams pin by other
 * hashes (npm's sha512 integrity, conda's md5, git's blob sha1 with its `blob <size>\0` header).
 */
export async function fileDigest(path: string, algorithm: 'md5' | 'sha1' | 'sha512', prefix = ''): Promise<Buffer> {
  const h = createHash(algorithm).update(prefix);
  for await (const c of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(c as Buffer);
  return h.digest();
}

/** A file a user named (a manifest, a requirements file, an environment file), or CONFIG_INVALID naming it. */
export async function readConfigText(path: string, label = path): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    throw new AirlockError('CONFIG_INVALID', `${label}: cannot read (${describeError(e)})`);
  }
}
