import type { StoredArtifact } from '../../core/artifact.js';
import { type HfSnapshot, readSnapshot, repoKey } from './record.js';

/** One repository as the closed side knows it: its commits, and which commit each branch or tag names. */
export interface RepoState {
  commits: Map<string, HfSnapshot>;
  refs: Map<string, string>;
  /** The newest import, what `main` means when no bundle asked for `main` itself. */
  newest: string;
}

/**
 * Every snapshot in the store by `models/org/name` or `datasets/org/name`. A branch or tag
 * names the commit of the newest import that asked for it; a commit names itself.
 */
export function hubView(artifacts: readonly StoredArtifact[]): Map<string, RepoState> {
  const repos = new Map<string, RepoState>();
  for (const a of [...artifacts].sort((x, y) => x.id - y.id)) {
    const s = readSnapshot(a.metadata);
    if (!s) continue;
    const key = repoKey(s.type, s.repo);
    let r = repos.get(key);
    if (!r) repos.set(key, (r = { commits: new Map(), refs: new Map(), newest: s.commit }));
    r.commits.set(s.commit, s);
    r.newest = s.commit;
    if (s.revision !== s.commit) r.refs.set(s.revision, s.commit);
  }
  return repos;
}

/**
 * A revision as the Hub resolves it: a commit (full or a unique prefix of 7+), a branch or a
 * tag. Clients ask for `main` unless told otherwise, so a repo carried at a tag or commit
 * answers `main` with its newest snapshot.
 */
export function commitFor(r: RepoState, revision: string): HfSnapshot | undefined {
  const direct = r.commits.get(revision) ?? r.commits.get(r.refs.get(revision) ?? '');
  if (direct) return direct;
  if (revision === 'main') return r.commits.get(r.newest);
  if (/^[0-9a-f]{7,40}$/.test(revision)) {
    const hits = [...r.commits.values()].filter((s) => s.commit.startsWith(revision));
    if (hits.length === 1) return hits[0];
  }
  return undefined;
}
