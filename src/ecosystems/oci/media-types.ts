export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';

export const MANIFEST_TYPES = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST] as const;
/** What airlock sends as Accept when fetching a manifest: every type it can store. */
export const MANIFEST_ACCEPT = MANIFEST_TYPES.join(', ');

export function isIndexType(t: string): boolean {
  return t === OCI_INDEX || t === DOCKER_LIST;
}

export function isManifestType(t: string): boolean {
  return (MANIFEST_TYPES as readonly string[]).includes(t);
}

/**
 * Layers a registry is not expected to hold (Windows base layers and the like, fetched from
 * their descriptor's `urls`): OCI's non-distributable layers and Docker's foreign ones.
 */
export function isForeignLayer(t: string): boolean {
  return (
    t.startsWith('application/vnd.oci.image.layer.nondistributable.') || t === 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'
  );
}
