import tarStream from 'tar-stream';
import { digestOf, type Digest } from '../../src/core/digest.js';
import { type BundleManifest, OCI_LAYOUT, serializeManifest } from '../../src/bundle/format.js';
import { volumeIndex } from '../../src/bundle/layout.js';

export interface CraftEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo';
  data?: Buffer;
  linkname?: string;
}

/** Builds a tar with whatever entries a hostile bundle might carry (tar-stream lets us). */
export async function craftTar(entries: CraftEntry[]): Promise<Buffer> {
  const pack = tarStream.pack();
  const out: Buffer[] = [];
  pack.on('data', (c: unknown) => out.push(c as Buffer));
  const done = new Promise<void>((res, rej) => pack.on('end', res).on('error', rej));
  for (const e of entries) {
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
  }
  pack.finalize();
  await done;
  return Buffer.concat(out);
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
