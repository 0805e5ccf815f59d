import type { Digest } from '../core/digest.js';
import {
  MANIFEST_MEDIA_TYPE,
  MANIFEST_REF_NAME,
  OCI_INDEX_MEDIA_TYPE,
  REF_NAME_ANNOTATION,
  VOLUME_ANNOTATION,
} from './format.js';

/** The OCI `index.json` of one volume: it points at the bundle manifest and says which volume this is. */
export function volumeIndex(manifest: { digest: Digest; size: number }, volume: number, count: number): string {
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
    ],
  })}\n`;
}
