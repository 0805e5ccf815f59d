import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { type FileHandle, mkdir, open, opendir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobInfo, BlobStore, ByteRange, StagedWrite, StagingArea, UploadArea } from './blobstore.js';
import { type Digest, HashingStream, hexOf, isHex64 } from './digest.js';
import { AirlockError } from './errors.js';
import { fsyncDir, ioReason, removeDeadTemps, tempPathFor } from './fsutil.js';

/** Creates `dir` if needed, and syncs the parent of a new one: a blob is durable only if its fan-out directory is. */
async function makeDurableDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await fsyncDir(dirname(d));
    if (d === first) return;
  }
}

/** Names of upload areas and of uploads in them: never a path, never a temp file's name. */
const UPLOAD_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;

/** pump's buffer size: two slots of 1 MiB keep a socket fed; the memory per download stays at 2 MiB. */
const PUMP_CHUNK = 1 << 20;

/** Blobs at `<root>/sha256/<ab>/<hex>`: fan-out keeps directories small at millions of blobs. */
export class FsBlobStore implements BlobStore {
  constructor(
    private readonly root: string,
    private readonly tmpRoot: string,
    private readonly stagingRoot: string = join(dirname(root), 'staging'),
  ) {}

  pathOf(digest: Digest): string {
    const hex = hexOf(digest);
    return join(this.root, 'sha256', hex.slice(0, 2), hex);
  }

  async stat(digest: Digest): Promise<BlobInfo | undefined> {
    try {
      const s = await stat(this.pathOf(digest));
      return { digest, size: s.size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  private async openBlob(digest: Digest): Promise<FileHandle> {
    return open(this.pathOf(digest), 'r').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') throw new AirlockError('NOT_FOUND', `blob ${digest} is not in the store`);
      throw e;
    });
  }

  async open(digest: Digest, range?: ByteRange): Promise<Readable> {
    // Open before streaming so a missing blob is an error here, not a later stream event.
    const fh = await this.openBlob(digest);
    // Buffers sized to what is read: a 2 KiB tarball must not cost a 1 MiB allocation, and a
    // known end spares the read that would only find EOF.
    const start = range?.start ?? 0;
    const end = range?.end ?? (await fh.stat()).size - 1;
    if (end < start) {
      await fh.close();
      return Readable.from([]);
    }
    return createReadStream('', { fd: fh, start, end, highWaterMark: Math.min(1 << 20, end - start + 1) });
  }

  async pump(digest: Digest, range: ByteRange | undefined, write: (chunk: Buffer) => Promise<void>): Promise<void> {
    const fh = await this.openBlob(digest);
    try {
      let at = range?.start ?? 0;
      const end = range?.end ?? (await fh.stat()).size - 1;
      // Two slots: one is being read into while the other is with the socket.
      const size = Math.min(PUMP_CHUNK, Math.max(end - at + 1, 1));
      const slots = [0, 1].map(() => ({ buf: Buffer.allocUnsafeSlow(size), sent: Promise.resolve() }));
      for (let k = 0; at <= end; k++) {
        const slot = slots[k % 2]!;
        await slot.sent;
        const { bytesRead } = await fh.read(slot.buf, 0, Math.min(size, end - at + 1), at);
        if (bytesRead === 0) throw new AirlockError('STORE_CORRUPT', `blob ${digest} ends before byte ${at}`);
        at += bytesRead;
        slot.sent = write(slot.buf.subarray(0, bytesRead));
        // A failed write must not wait for its turn to be noticed (nor go unhandled).
        slot.sent.catch(() => {});
      }
      await Promise.all(slots.map((s) => s.sent));
    } finally {
      await fh.close();
    }
  }

  async tempDir(): Promise<string> {
    await mkdir(this.tmpRoot, { recursive: true });
    return this.tmpRoot;
  }

  async put(source: Readable, label: string, expected: { digest?: Digest; size?: number } = {}): Promise<BlobInfo> {
    const tmp = tempPathFor(join(await this.tempDir(), 'x'));
    const hasher = new HashingStream();
    try {
      const out = createWriteStream(tmp, { flags: 'wx', highWaterMark: 1 << 20 });
      let outputFailed: unknown;
      out.on('error', (e) => {
        outputFailed ??= e;
      });
      await pipeline(source, hasher, out).catch((e: unknown) => {
        throw outputFailed === undefined
          ? e
          : new AirlockError('IO_ERROR', `${label}: cannot write to the store at ${this.root} (${ioReason(outputFailed)})`);
      });
      const blob = { digest: hasher.digest(), size: hasher.size };
      if (expected.digest && blob.digest !== expected.digest) {
        throw new AirlockError('DIGEST_MISMATCH', `${label}: expected ${expected.digest}, got ${blob.digest}`);
      }
      if (expected.size !== undefined && blob.size !== expected.size) {
        throw new AirlockError('SIZE_MISMATCH', `${label}: expected ${expected.size} bytes, got ${blob.size}`);
      }
      await this.adopt(tmp, blob);
      return blob;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async adopt(file: string, blob: BlobInfo): Promise<void> {
    const target = this.pathOf(blob.digest);
    if (await this.stat(blob.digest)) {
      await rm(file, { force: true });
      return;
    }
    const fh = await open(file, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await makeDurableDir(dirname(target));
    await rename(file, target);
    await fsyncDir(dirname(target));
  }

  async staging(area: string): Promise<StagingArea> {
    if (!isHex64(area)) throw new AirlockError('INTERNAL', `staging area ${area} is not a 64-digit hex name`);
    const dir = join(this.stagingRoot, area);
    await mkdir(dir, { recursive: true });
    // One listing answers every `has` of the area: a stat per blob would cost a failed
    // lookup (and an error object) for each new one.
    const names = new Set((await readdir(dir)).filter(isHex64));
    return new FsStagingArea(this, dir, names);
  }

  async stagingAreas(): Promise<string[]> {
    return (await readdir(this.stagingRoot).catch(() => [] as string[])).filter(isHex64);
  }

  async uploads(name: string): Promise<UploadArea> {
    if (!UPLOAD_NAME.test(name)) throw new AirlockError('INTERNAL', `upload area "${name}" is not a plain name`);
    const dir = join(await this.tempDir(), `${name}-uploads`);
    await mkdir(dir, { recursive: true });
    return new FsUploadArea(this, dir);
  }

  async delete(digest: Digest): Promise<void> {
    await rm(this.pathOf(digest), { force: true });
  }

  async *list(): AsyncIterable<Digest> {
    const base = join(this.root, 'sha256');
    let fan;
    try {
      fan = await opendir(base);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for await (const d of fan) {
      if (!d.isDirectory()) continue;
      for await (const f of await opendir(join(base, d.name))) {
        if (f.isFile() && isHex64(f.name) && f.name.startsWith(d.name)) yield `sha256:${f.name}`;
      }
    }
  }
}

/** A staging area as a directory of `<hex>` files beside the store's blobs (one device, so adoption is a rename). */
class FsStagingArea implements StagingArea {
  constructor(
    private readonly store: FsBlobStore,
    private readonly dir: string,
    private readonly names: Set<string>,
  ) {}

  private pathOf(digest: Digest): string {
    return join(this.dir, hexOf(digest));
  }

  async has(digest: Digest): Promise<boolean> {
    return this.names.has(hexOf(digest));
  }

  async open(digest: Digest): Promise<StagedWrite> {
    const final = this.pathOf(digest);
    const tmp = tempPathFor(final);
    // `flush` fsyncs the descriptor before it closes: the data is on disk without reopening the file.
    const stream = createWriteStream(tmp, { flags: 'wx', flush: true, highWaterMark: 1 << 20 });
    return {
      stream,
      commit: async () => {
        // `flush` syncs on close, which comes after 'finish': the name must not reach the disk before the data.
        if (!stream.closed) await once(stream, 'close');
        await rename(tmp, final);
        this.names.add(hexOf(digest));
      },
      abort: async () => {
        // A stream destroyed before its file is open still opens (creates) it, then closes:
        // removing the file before that would leave an empty temp file behind.
        if (!stream.closed) {
          const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
          stream.destroy();
          await closed;
        }
        await rm(tmp, { force: true });
      },
    };
  }

  read(digest: Digest): Readable {
    return createReadStream(this.pathOf(digest), { highWaterMark: 1 << 20 });
  }

  async remove(digest: Digest): Promise<void> {
    await rm(this.pathOf(digest), { force: true });
    this.names.delete(hexOf(digest));
  }

  async empty(): Promise<boolean> {
    return this.names.size === 0;
  }

  async durable(): Promise<void> {
    await fsyncDir(this.dir);
    // The area's own entry too: a run killed after making the directory left it unsynced, and
    // an area that vanishes in a power cut takes every name in it along.
    await fsyncDir(dirname(this.dir));
  }

  async adopt(blobs: Iterable<BlobInfo>, adopted?: () => void): Promise<Digest[]> {
    const missing: Digest[] = [];
    // Each fan-out directory is made once and fsynced once per batch, not once per blob: a
    // staged blob's data is already on disk, so only the new names need to reach it.
    const touched = new Set<string>();
    for (const b of blobs) {
      const target = this.store.pathOf(b.digest);
      const fan = dirname(target);
      if (!touched.has(fan)) {
        await makeDurableDir(fan);
        touched.add(fan);
      }
      try {
        await rename(this.pathOf(b.digest), target);
        this.names.delete(hexOf(b.digest));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        if (!(await this.store.stat(b.digest))) missing.push(b.digest);
        continue;
      }
      adopted?.();
    }
    for (const fan of touched) await fsyncDir(fan);
    return missing;
  }

  async sweep(): Promise<void> {
    await removeDeadTemps(this.dir);
  }

  async discard(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    this.names.clear();
  }
}

/** Uploads as files in the store's scratch directory, so committing one is a rename. */
class FsUploadArea implements UploadArea {
  constructor(
    private readonly store: FsBlobStore,
    private readonly dir: string,
  ) {}

  private pathOf(id: string): string {
    if (!UPLOAD_NAME.test(id)) throw new AirlockError('INTERNAL', `upload id "${id.slice(0, 40)}" is not a plain name`);
    return join(this.dir, id);
  }

  async size(id: string): Promise<number | undefined> {
    return (await stat(this.pathOf(id)).catch(() => undefined))?.size;
  }

  async append(id: string, source: Readable): Promise<void> {
    await pipeline(source, createWriteStream(this.pathOf(id), { flags: 'a', highWaterMark: 1 << 20 }));
  }

  read(id: string): Readable {
    return createReadStream(this.pathOf(id), { highWaterMark: 1 << 20 });
  }

  async commit(id: string, blob: BlobInfo): Promise<void> {
    await this.store.adopt(this.pathOf(id), blob);
  }

  async discard(id: string): Promise<void> {
    await rm(this.pathOf(id), { force: true });
  }

  async sweep(idleMs: number): Promise<void> {
    const now = Date.now();
    for (const id of await readdir(this.dir).catch(() => [] as string[])) {
      if (!UPLOAD_NAME.test(id)) continue;
      const s = await stat(join(this.dir, id)).catch(() => undefined);
      if (s && now - s.mtimeMs > idleMs) await rm(join(this.dir, id), { force: true });
    }
  }
}
