import { localActor } from '../audit/log.js';
import { canonicalJson } from '../core/canonical-json.js';
import { audited } from '../core/metadata.js';
import type { Store } from '../core/store.js';
import type { TrustPolicy } from '../custody/policy.js';

/** Installs a validated trust policy; the policy and its `trust.set` entry commit together. */
export async function setTrustPolicy(store: Store, policy: TrustPolicy, source: string, actor = localActor()): Promise<void> {
  const json = canonicalJson(policy);
  await store.withWriteLock('trust set', () =>
    audited(
      store.meta,
      { actor, action: 'trust.set', subject: source, outcome: 'installed', detail: { policy: JSON.parse(json) as unknown } },
      (tx, because) => tx.setTrustPolicy(json, source, because),
    ),
  );
}
