/**
 * Image references as docker and podman read them: `nginx:alpine` is
 * `docker.io/library/nginx:alpine`, a bare name means `:latest`, and a first component with a
 * `.` or `:` (or `localhost`) is a registry host. Grammar from the distribution reference
 * package; the names are what the store and the `/v2/` server use.
 */
export interface ImageReference {
  /** `docker.io`, `ghcr.io`, `127.0.0.1:5000`. */
  registry: string;
  /** `library/nginx`, `org/model-server`. */
  path: string;
  tag?: string;
  digest?: string;
}

export class ImageReferenceError extends Error {}

export const DOCKER_HUB = 'docker.io';
/** Docker Hub's API host: `docker.io` is only a name. */
export const DOCKER_HUB_API = 'registry-1.docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?$/;

/** True when `path` is a repository path the distribution grammar allows (no `..`, no empty parts). */
export function isRepositoryPath(path: string): boolean {
  return path.length > 0 && path.length <= 255 && path.split('/').every((c) => COMPONENT.test(c));
}

export function isTag(tag: string): boolean {
  return TAG.test(tag);
}

export function parseReference(text: string): ImageReference {
  const bad = (why: string): never => {
    throw new ImageReferenceError(`"${text}" is not an image reference: ${why}`);
  };
  let rest = text.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) bad(`bad digest "${digest}" (expected sha256:<64 hex>)`);
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) bad(`bad tag "${tag}"`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  if (parts.length > 1 && (parts[0]!.includes('.') || parts[0]!.includes(':') || parts[0] === 'localhost')) {
    registry = parts.shift()!;
    if (!HOST.test(registry)) bad(`bad registry host "${registry}"`);
  }
  if (registry === 'index.docker.io' || registry === DOCKER_HUB_API) registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const path = parts.join('/');
  if (!isRepositoryPath(path)) bad(`bad repository "${path}" (lowercase letters, digits and . _ - separators)`);
  if (!tag && !digest) tag = 'latest';
  return { registry, path, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** `docker.io/library/nginx`: the name an image is stored and served under. */
export function repositoryName(r: Pick<ImageReference, 'registry' | 'path'>): string {
  return `${r.registry}/${r.path}`;
}

/** The fully qualified reference: `docker.io/library/nginx:1.27@sha256:…`. */
export function formatReference(r: ImageReference): string {
  return `${repositoryName(r)}${r.tag ? `:${r.tag}` : ''}${r.digest ? `@${r.digest}` : ''}`;
}
