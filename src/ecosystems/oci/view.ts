import type { StoredArtifact } from '../../core/artifact.js';
import { type Digest, type Sha512Digest, isDigest } from '../../core/digest.js';
import type { OciDigest } from './manifest.js';
import { readOciMetadata, type StoredManifest } from './record.js';
import { DOCKER_HUB } from './reference.js';

/** What `/v2/<name>/` can answer for one repository. */
export interface RepoView {
  name: string;
  /** The names its artifacts are stored under (`127.0.0.1:5000/x` for `127.0.0.1-5000/x`). */
  storedNames: Set<string>;
  /** Tag → the manifest it points at; the newest import of a tag wins. */
  tags: Map<string, StoredManifest>;
  manifests: Map<Digest, StoredManifest>;
  blobs: Map<Digest, { size: number; mediaType?: string }>;
}

/**
 * The name a repository is served under: `H/P`. A host with a port (`127.0.0.1:5000`) becomes
 * `127.0.0.1-5000`, because a `:` is not allowed in a repository name clients can send.
 */
export function servedName(stored: string): string {
  const slash = stored.indexOf('/');
  return `${stored.slice(0, slash).replace(':', '-')}${stored.slice(slash)}`;
}

/** Every stored image, by served name; rebuilt when the store's revision changes. */
export class RegistryView {
  readonly repos = new Map<string, RepoView>();

  /** sha256 → the sha512 a client named the same bytes by. */
  private readonly sha512Of = new Map<Digest, Sha512Digest>();

  /**
   * `bundles` gives each bundle's creator and sequence: a tag set by a bundle is not taken over
   * by a bundle of the same creator with a lower sequence imported later (no rollback by
   * replaying an old bundle); otherwise the newest import or push of a tag wins. `sha512`
   * maps the sha512 names clients pushed content by to the sha256 it is stored under.
   */
  constructor(
    artifacts: readonly StoredArtifact[],
    bundles: ReadonlyMap<string, { creator: string; sequence: number }> = new Map(),
    private readonly sha512: ReadonlyMap<Sha512Digest, Digest> = new Map(),
  ) {
    for (const [long, short] of sha512) this.sha512Of.set(short, long);
    const setBy = new Map<string, { creator: string; sequence: number } | undefined>();
    for (const a of [...artifacts].sort((x, y) => x.id - y.id)) {
      const m = readOciMetadata(a.metadata);
      if (!m) continue;
      const name = servedName(a.name);
      let repo = this.repos.get(name);
      if (!repo) this.repos.set(name, (repo = { name, storedNames: new Set(), tags: new Map(), manifests: new Map(), blobs: new Map() }));
      repo.storedNames.add(a.name);
      // Every record of a digest describes the same bytes; an older index push wrote bare
      // ones (digest, type, size), which must not hide what the manifest's own record says.
      for (const man of m.manifests) {
        const prior = repo.manifests.get(man.digest);
        repo.manifests.set(man.digest, prior ? { ...prior, ...man } : man);
      }
      for (const b of a.blobs) repo.blobs.set(b.digest, { size: b.size, ...(b.mediaType ? { mediaType: b.mediaType } : {}) });
      const top = m.manifests.find((x) => x.digest === a.digest);
      if (m.tag && top) {
        const from = a.bundleId ? bundles.get(a.bundleId) : undefined;
        const key = `${name}:${m.tag}`;
        const prior = setBy.get(key);
        if (from && prior && prior.creator === from.creator && prior.sequence > from.sequence) continue;
        setBy.set(key, from);
        repo.tags.set(m.tag, top);
      }
    }
    for (const repo of this.repos.values()) for (const [tag, m] of repo.tags) repo.tags.set(tag, repo.manifests.get(m.digest)!);
  }

  /** The sha256 the store holds content under, for a sha256 or a sha512 name; undefined for a sha512 never pushed. */
  address(digest: OciDigest): Digest | undefined {
    return isDigest(digest) ? digest : this.sha512.get(digest);
  }

  /** The digest clients know a manifest by: the sha512 it was pushed as, if it was. */
  nameOf(digest: Digest): OciDigest {
    return this.sha512Of.get(digest) ?? digest;
  }

  /**
   * A repository by the name a client sent: `H/P`, or for Docker Hub also `P` (what Docker's
   * registry-mirrors and podman's mirror entries send), or `P` with containerd's `?ns=H`.
   */
  find(name: string, ns?: string): RepoView | undefined {
    if (ns) return this.repos.get(servedName(`${ns === 'registry-1.docker.io' || ns === 'index.docker.io' ? DOCKER_HUB : ns}/${name}`));
    return this.repos.get(name) ?? this.repos.get(`${DOCKER_HUB}/${name}`);
  }

  /** Served names, sorted, for `_catalog`. */
  names(): string[] {
    return [...this.repos.keys()].sort();
  }
}
