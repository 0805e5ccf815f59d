import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BlobInfo } from './blobstore.js';
import { HashingStream } from './digest.js';
import { AirlockError, describeError } from './errors.js';

/** A temp name beside `target`, so the final rename never crosses a filesystem. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** The pid that made a temp file (named by tempPathFor), or undefined for any other name. */
export function tempFileOwner(name: string): number | undefined {
  const m = /^\.tmp-(\d+)-/.exec(name);
  return m ? Number(m[1]) : undefined;
}

export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
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
  } catch {
    // Some filesystems refuse fsync on directories; the data itself is already synced.
  }
}

/** Writes `data` to `target` atomically: temp file, fsync, rename, fsync dir. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
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
    throw e;
  }
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
