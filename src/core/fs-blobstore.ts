import { createReadStream, createWriteStream } from 'node:fs';
import { type FileHandle, mkdir, open, opendir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobInfo, BlobStore, ByteRange } from './blobstore.js';
import { type Digest, HashingStream, hexOf, isHex64 } from './digest.js';
import { AirlockError } from './errors.js';
import { fsyncDir, ioReason, tempPathFor } from './fsutil.js';

/** pump's buffer size: two slots of 1 MiB keep a socket fed; the memory per download stays at 2 MiB. */
const PUMP_CHUNK = 1 << 20;

/** Blobs at `<root>/sha256/<ab>/<hex>`: fan-out keeps directories small at millions of blobs. */
export class FsBlobStore implements BlobStore {
  constructor(
    private readonly root: string,
    private readonly tmpRoot: string,
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
        throw outputFailed === undefined ? e : new AirlockError('IO_ERROR', `${label}: cannot write to the store at ${this.root} (${ioReason(outputFailed)})`);
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
    await mkdir(dirname(target), { recursive: true });
    await rename(file, target);
    await fsyncDir(dirname(target));
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
