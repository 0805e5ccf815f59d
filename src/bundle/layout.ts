import type { ArtifactRecord } from '../core/artifact.js';
import type { Digest } from '../core/digest.js';
import { MANIFEST_MEDIA_TYPE, MANIFEST_REF_NAME, OCI_INDEX_MEDIA_TYPE, REF_NAME_ANNOTATION, VOLUME_ANNOTATION } from './format.js';

/** Manifest media types an OCI layout's index.json may reference for an image. */
const IMAGE_MEDIA_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);

export interface ImageRef {
  mediaType: string;
  digest: Digest;
  size: number;
  refName: string;
}

/**
 * The container images among a bundle's artifacts: any artifact whose primary blob is an image
 * manifest or index and whose metadata names a `refName`. They go into index.json so container
 * tools read the bundle as the OCI layout it is (`skopeo copy oci-archive:B.airlock:<ref>`).
 */
export function imageRefs(artifacts: Iterable<ArtifactRecord>): ImageRef[] {
  const refs: ImageRef[] = [];
  for (const a of artifacts) {
    if (a.mediaType && IMAGE_MEDIA_TYPES.has(a.mediaType) && typeof a.metadata.refName === 'string') {
      refs.push({ mediaType: a.mediaType, digest: a.digest, size: a.size, refName: a.metadata.refName });
    }
  }
  // Ties broken by digest: the writer lists artifacts in lock order, a reader in manifest order, and both must get the same index.
  return refs.sort((a, b) =>
    a.refName < b.refName ? -1 : a.refName > b.refName ? 1 : a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0,
  );
}

/** The OCI `index.json` of one volume: the bundle manifest, which volume this is, and the images. */
export function volumeIndex(
  manifest: { digest: Digest; size: number },
  volume: number,
  count: number,
  images: readonly ImageRef[] = [],
): string {
  return `${JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX_MEDIA_TYPE,
    manifests: [
      {
        mediaType: MANIFEST_MEDIA_TYPE,
        digest: manifest.digest,
        size: manifest.size,
        annotations: { [REF_NAME_ANNOTATION]: MANIFEST_REF_NAME, [VOLUME_ANNOTATION]: `${volume}/${count}` },
      },
      ...images.map((i) => ({ mediaType: i.mediaType, digest: i.digest, size: i.size, annotations: { [REF_NAME_ANNOTATION]: i.refName } })),
    ],
  })}\n`;
}

const INDEX_TAIL = ']}\n';

/** How every volume's index.json begins, whatever images follow: the reader checks these bytes before it knows the manifest. */
export function volumeIndexHead(manifest: { digest: Digest; size: number }, volume: number, count: number): string {
  return volumeIndex(manifest, volume, count).slice(0, -INDEX_TAIL.length);
}
