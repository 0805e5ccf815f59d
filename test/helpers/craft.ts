import tarStream from 'tar-stream';
import { digestOf, type Digest } from '../../src/core/digest.js';
import { type BundleManifest, OCI_LAYOUT, serializeManifest } from '../../src/bundle/format.js';
import { volumeIndex } from '../../src/bundle/layout.js';
import { END_OF_ARCHIVE, tarHeader, tarPadding } from '../../src/core/tar.js';

export interface CraftEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo';
  data?: Buffer;
  linkname?: string;
}

/**
 * Builds a tar with whatever entries a hostile bundle might carry. Regular files and
 * directories with names the writer accepts get the writer's own bytes (the reader takes no
 * other); everything else (links, devices, long names) comes from tar-stream, which makes them.
 */
export async function craftTar(entries: CraftEntry[]): Promise<Buffer> {
  const out: Buffer[] = [];
  for (const e of entries) {
    const plain =
      (e.type === undefined || e.type === 'file' || e.type === 'directory') && e.name.length <= 100 && /^[\x21-\x7e]+$/.test(e.name);
    if (!plain) {
      out.push(await tarStreamEntry(e));
      continue;
    }
    const data = e.data ?? Buffer.alloc(0);
    out.push(tarHeader(e.name, data.length, e.type === 'directory' ? '5' : '0'), data, tarPadding(data.length));
  }
  out.push(END_OF_ARCHIVE);
  return Buffer.concat(out);
}

/** One entry as tar-stream writes it, without its end-of-archive blocks. */
async function tarStreamEntry(e: CraftEntry): Promise<Buffer> {
  const pack = tarStream.pack();
  const out: Buffer[] = [];
  pack.on('data', (c: unknown) => out.push(c as Buffer));
  const done = new Promise<void>((res, rej) => pack.on('end', res).on('error', rej));
  await new Promise<void>((res, rej) => {
    const header = {
      name: e.name,
      type: e.type ?? 'file',
      mode: e.type === 'directory' ? 0o755 : 0o644,
      mtime: new Date(0),
      ...(e.linkname ? { linkname: e.linkname } : {}),
      ...(e.type === 'character-device' ? { devmajor: 1, devminor: 3 } : {}),
    };
    const cb = (err?: Error | null): void => (err ? rej(err) : res());
    if (e.type === 'file' || e.type === undefined) pack.entry(header, e.data ?? Buffer.alloc(0), cb);
    else pack.entry(header, cb);
  });
  pack.finalize();
  await done;
  const all = Buffer.concat(out);
  return all.subarray(0, all.length - END_OF_ARCHIVE.length);
}

/** The metadata entries of a bundle volume for `manifest`, as the writer lays them out. */
export function layoutEntries(manifest: BundleManifest | Record<string, unknown>, volume = 1): { entries: CraftEntry[]; id: Digest } {
  const bytes = Buffer.from(
    'mediaType' in manifest && (manifest as BundleManifest).artifacts
      ? serializeManifest(manifest as BundleManifest)
      : JSON.stringify(manifest),
  );
  const id = digestOf(bytes);
  const volumes = typeof manifest.volumes === 'number' ? manifest.volumes : 1;
  return {
    id,
    entries: [
      { name: 'oci-layout', data: Buffer.from(OCI_LAYOUT) },
      { name: 'index.json', data: Buffer.from(volumeIndex({ digest: id, size: bytes.length }, volume, volumes)) },
      { name: 'blobs/', type: 'directory' },
      { name: 'blobs/sha256/', type: 'directory' },
      { name: `blobs/sha256/${id.slice(7)}`, data: bytes },
    ],
  };
}
