import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import picomatch from 'picomatch';
import { canonicalJson } from '../../core/canonical-json.js';
import { type Digest, digestOf } from '../../core/digest.js';
import { AirlockError } from '../../core/errors.js';
import { fileDigest, tempPathFor } from '../../core/fsutil.js';
import type { LockedArtifact, LockedBlob } from '../../manifest/lockfile.js';
import type { ResolveContext } from '../ecosystem.js';
import { HubClient, type TreeEntry, hubToken } from './hub-client.js';
import { type HfFile, type HfSnapshot, repoKey } from './record.js';
import type { HfRepoSpec, HfSection } from './schema.js';

/** A path in a resolve URL: each segment escaped, the slashes kept. */
export function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export function resolveUrl(endpoint: string, type: HfSnapshot['type'], repo: string, commit: string, path: string): string {
  return `${endpoint}/${type === 'dataset' ? 'datasets/' : ''}${repo}/resolve/${commit}/${encodePath(path)}`;
}

/** Files the patterns keep, as huggingface_hub's allow/ignore patterns do (a slash-free pattern matches any folder). */
function selected(spec: HfRepoSpec, files: TreeEntry[]): TreeEntry[] {
  const opts = { dot: true, basename: true };
  const keep = spec.include.length ? picomatch(spec.include, opts) : () => true;
  const drop = spec.exclude.length ? picomatch(spec.exclude, opts) : () => false;
  return files.filter((f) => keep(f.path) && !drop(f.path));
}

async function snapshotOf(spec: HfRepoSpec, endpoint: string, hub: HubClient, ctx: ResolveContext): Promise<LockedArtifact> {
  const label = `hf:${repoKey(spec.type, spec.repo)}@${spec.revision}`;
  const commit = await hub.commitOf(spec.type, spec.repo, spec.revision, label);
  const files: HfFile[] = [];
  const blobs: LockedBlob[] = [];
  for (const e of selected(spec, await hub.files(spec.type, spec.repo, commit, label))) {
    const url = resolveUrl(endpoint, spec.type, spec.repo, commit, e.path);
    if (e.lfs) {
      // LFS files are named by their sha256: pinned now, downloaded (resumable, verified) by fetch.
      if (!/^[0-9a-f]{64}$/.test(e.lfs.oid)) throw new AirlockError('HTTP_ERROR', `${label}: ${e.path} has a malformed LFS oid`);
      const digest = `sha256:${e.lfs.oid}` as Digest;
      files.push({
        path: e.path,
        size: e.lfs.size,
        oid: e.oid,
        lfs: { sha256: e.lfs.oid, size: e.lfs.size, ...(e.lfs.pointerSize !== undefined ? { pointerSize: e.lfs.pointerSize } : {}) },
        digest,
      });
      blobs.push({ digest, size: e.lfs.size, url });
      continue;
    }
    // Regular files are named by their git sha1: downloaded now, checked, and pinned by sha256.
    const dest = tempPathFor(join(await ctx.store.blobs.tempDir(), 'hf'));
    try {
      const blob = await ctx.http.download({ url, dest, label: `${label}/${e.path}`, expectedSize: e.size, headers: hub.headers() });
      // git's blob id, what the tree API calls `oid`.
      const sha1 = (await fileDigest(dest, 'sha1', `blob ${blob.size}\0`)).toString('hex');
      if (sha1 !== e.oid)
        throw new AirlockError('DIGEST_MISMATCH', `${label}/${e.path}: its git blob id is ${sha1}, the Hub says ${e.oid}`);
      await ctx.store.blobs.adopt(dest, blob);
      files.push({ path: e.path, size: blob.size, oid: e.oid, digest: blob.digest });
      blobs.push({ digest: blob.digest, size: blob.size, url });
    } finally {
      await rm(dest, { force: true });
    }
  }
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  const snapshot: HfSnapshot = { type: spec.type, repo: spec.repo, commit, revision: spec.revision, files };
  // The snapshot's own listing is its primary blob: what the closed side serves as the tree.
  const index = Buffer.from(canonicalJson(snapshot));
  const digest = digestOf(index);
  await ctx.store.blobs.put(Readable.from([index]), `${label} index`, { digest, size: index.length });
  ctx.reporter.info(`hf: ${spec.repo} ${spec.revision} → ${commit} (${files.length} file(s))`);
  return {
    ecosystem: 'hf',
    key: `${repoKey(spec.type, spec.repo)}@${commit}`,
    name: repoKey(spec.type, spec.repo),
    version: commit,
    digest,
    size: index.length,
    mediaType: 'application/json',
    source: `${endpoint}/api/${spec.type}s/${spec.repo}/revision/${commit}`,
    metadata: snapshot as unknown as Record<string, unknown>,
    // The index is made here, not downloaded: it has no URL, so `fetch` into another store needs `lock` there first.
    blobs: [{ digest, size: index.length }, ...blobs],
  };
}

/** Each repo at the commit its revision names today, with the files its patterns keep. */
export async function resolveHf(section: HfSection, ctx: ResolveContext): Promise<LockedArtifact[]> {
  const endpoint = section.endpoint.replace(/\/+$/, '');
  const hub = new HubClient(ctx.http, endpoint, await hubToken());
  const out: LockedArtifact[] = [];
  for (const spec of section.repos) out.push(await snapshotOf(spec, endpoint, hub, ctx));
  return out;
}
