import type { StoredArtifact } from '../../core/artifact.js';
import type { Store } from '../../core/store.js';
import type { PackumentInput } from './packument.js';
import { readNpmMetadata } from './record.js';

const DIST_TAG = 'dist-tag:';
const DEPRECATED = 'deprecated:';

export const distTagRef = (tag: string) => `${DIST_TAG}${tag}`;
export const deprecatedRef = (version: string) => `${DEPRECATED}${version}`;

/** Everything the store holds about one package: its versions (artifacts) and its refs. */
export async function packageState(store: Store, name: string): Promise<{ artifacts: StoredArtifact[]; input: PackumentInput }> {
  const artifacts = await store.meta.listArtifacts({ ecosystem: 'npm', name });
  const refs = await store.meta.listRefs('npm', name);
  const distTags: Record<string, string> = {};
  const deprecated: Record<string, string> = {};
  for (const r of refs) {
    if (r.ref.startsWith(DIST_TAG)) distTags[r.ref.slice(DIST_TAG.length)] = r.value;
    if (r.ref.startsWith(DEPRECATED)) deprecated[r.ref.slice(DEPRECATED.length)] = r.value;
  }
  const versions = artifacts.flatMap((a) => readNpmMetadata(a.metadata) ?? []);
  const refsModified = refs
    .map((r) => r.updatedAt)
    .sort()
    .at(-1);
  return { artifacts, input: { name, versions, distTags, deprecated, ...(refsModified ? { refsModified } : {}) } };
}
