import type { ArtifactRecord } from '../../src/core/artifact.js';
import { type AuditEvent, type MetadataStore, type TokenRole, audited } from '../../src/core/metadata.js';

/** A test's own writes go through the store's one door too, each with an entry naming the test. */
const seeded = (subject: string): AuditEvent => ({ actor: 'local:test', action: 'test.seed', subject, outcome: 'written' });

export function putArtifacts(meta: MetadataStore, records: readonly ArtifactRecord[], bundleId: string | null = null) {
  return audited(meta, seeded('artifacts'), (tx, because) => tx.putArtifacts(records, bundleId, because));
}

export function deleteArtifacts(meta: MetadataStore, ecosystem: string, keys: readonly string[]) {
  return audited(meta, seeded('artifacts'), (tx, because) => tx.deleteArtifacts(ecosystem, keys, because));
}

export function setRef(meta: MetadataStore, ecosystem: string, name: string, ref: string, value: string | null) {
  return audited(meta, seeded('ref'), (tx, because) => tx.setRef(ecosystem, name, ref, value, because));
}

export function setTrustPolicy(meta: MetadataStore, policy: string, source: string) {
  return audited(meta, seeded('trust'), (tx, because) => tx.setTrustPolicy(policy, source, because));
}

export function insertToken(meta: MetadataStore, name: string, role: TokenRole, hash: string) {
  return audited(meta, seeded('token'), (tx, because) => tx.createToken(name, role, hash, because));
}
