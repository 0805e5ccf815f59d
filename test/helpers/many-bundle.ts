/** A bundle whose manifest lists many artifacts, for memory measurements (test/bundle, bench/manifest-memory.ts). */
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { ArtifactRecord } from '../../src/core/artifact.js';
import { digestOf } from '../../src/core/digest.js';
import {
  type BundleManifest,
  FORMAT_VERSION,
  MANIFEST_MEDIA_TYPE,
  OCI_LAYOUT,
  blobEntryName,
  serializeManifest,
  volumeContents,
} from '../../src/bundle/format.js';
import { imageRefs, volumeIndex } from '../../src/bundle/layout.js';
import { createTarWriter } from '../../src/core/tar.js';

function payload(i: number): Buffer {
  return Buffer.from(`artifact ${i}\n`);
}

/**
 * Writes `entries` files artifacts, each with its own small blob and npm-like metadata, with the
 * writer's own pieces: byte for byte what `bundle create` makes, without seeding a store blob by blob.
 */
export async function writeManyBundle(file: string, entries: number): Promise<{ manifestBytes: number }> {
  const artifacts: ArtifactRecord[] = [];
  for (let i = 0; i < entries; i++) {
    const data = payload(i);
    const digest = digestOf(data);
    const name = `pkg-${String(i).padStart(6, '0')}`;
    artifacts.push({
      ecosystem: 'files',
      key: `${name}/-/${name}-1.0.${i % 10}.tgz`,
      name,
      version: `1.0.${i % 10}`,
      digest,
      size: data.length,
      source: `http://upstream.invalid/${name}/-/${name}-1.0.${i % 10}.tgz`,
      metadata: {
        integrity: `sha512-${digestOf(name).slice(7)}`,
        dependencies: { 'left-pad': '^1.3.0', lodash: '^4.17.21', [`dep-${i % 97}`]: '~2.0.0' },
        os: ['linux'],
      },
      blobs: [{ digest, size: data.length }],
    });
  }
  const blobs = artifacts.map((a) => ({ digest: a.digest, size: a.size, volume: 1 })).sort((a, b) => (a.digest < b.digest ? -1 : 1));
  const manifest: BundleManifest = {
    mediaType: MANIFEST_MEDIA_TYPE,
    formatVersion: FORMAT_VERSION,
    name: 'many',
    sequence: 1,
    creator: 'bench',
    target: { platforms: ['linux/amd64'], python: [] },
    lockDigest: digestOf('lock'),
    volumes: 1,
    artifacts,
    blobs,
  };
  const bytes = Buffer.from(serializeManifest(manifest));
  const id = digestOf(bytes);
  const byDigest = new Map(artifacts.map((a, i) => [a.digest, i]));
  const out = createWriteStream(file);
  const tar = createTarWriter(out);
  await tar.addBuffer('oci-layout', Buffer.from(OCI_LAYOUT));
  await tar.addBuffer('index.json', Buffer.from(volumeIndex({ digest: id, size: bytes.length }, 1, 1, imageRefs(artifacts))));
  await tar.addDirectory('blobs/');
  await tar.addDirectory('blobs/sha256/');
  await tar.addBuffer(blobEntryName(id), bytes);
  for (const e of volumeContents(manifest, 1)) await tar.addBuffer(blobEntryName(e.digest), payload(byDigest.get(e.digest)!));
  await tar.finish();
  await finished(out);
  return { manifestBytes: bytes.length };
}
