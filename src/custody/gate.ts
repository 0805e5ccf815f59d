import { basename } from 'node:path';
import { localActor } from '../audit/log.js';
import type { BundleManifest } from '../bundle/format.js';
import { type Digest, hexOf } from '../core/digest.js';
import { AirlockError } from '../core/errors.js';
import type { AuditEvent } from '../core/metadata.js';
import type { Store } from '../core/store.js';
import { custodyPath, readCustody } from './custody-file.js';
import { examineCustody } from './examine.js';
import { type TrustPolicy, evaluateCustody } from './policy.js';

export interface GateOptions {
  /** Import despite a failed custody check; the reason is audited. */
  override?: string;
}

export async function installedPolicy(store: Store): Promise<TrustPolicy | undefined> {
  const row = await store.meta.trustPolicy();
  return row ? (JSON.parse(row.policy) as TrustPolicy) : undefined;
}

/**
 * The custody check, made before a bundle's manifest is even read (signatures sign its id,
 * which is all it needs): with a trust policy installed the signatures beside the bundle
 * must satisfy it (or an audited override says why not); without one the import goes on
 * and says custody is not enforced. An override comes back as its audit event, for the
 * import to record in the transaction of what it lets in.
 */
export async function checkCustody(
  store: Store,
  file: string,
  bundleId: Digest,
  opts: GateOptions,
): Promise<{ warn: boolean; message: string; override?: AuditEvent }> {
  const policy = await installedPolicy(store);
  if (!policy) return { warn: true, message: `${basename(file)}: custody is not enforced (no trust policy; see airlock trust set)` };
  const sigs = examineCustody(await readCustody(custodyPath(file)), hexOf(bundleId));
  const verdict = evaluateCustody(policy, sigs, new Date());
  if (verdict.ok) {
    const who = Object.entries(verdict.counted).map(([role, names]) => `${role}: ${names.join(', ')}`);
    return { warn: false, message: `${basename(file)}: custody holds (${who.join('; ')})` };
  }
  const why = verdict.reasons.join('; ');
  if (opts.override) {
    return {
      warn: true,
      message: `${basename(file)}: custody OVERRIDDEN (${opts.override}): ${why}`,
      override: {
        actor: localActor(),
        action: 'custody.override',
        subject: `${basename(file)} ${bundleId}`,
        outcome: 'overridden',
        detail: { reason: opts.override, failed: verdict.reasons },
      },
    };
  }
  throw new AirlockError('CUSTODY_REFUSED', `${basename(file)}: custody: ${why}`, {
    hint: `signatures are read from ${custodyPath(file)}`,
  });
}

/**
 * Replay protection by the creator's sequence numbers: a sequence already imported from the
 * same creator as another bundle is a replay; a lower, unused one fills a gap. Returns what
 * to report.
 */
export async function checkSequence(
  store: Store,
  bundleId: Digest,
  m: Pick<BundleManifest, 'name' | 'creator' | 'sequence'>,
): Promise<string | undefined> {
  const mine = (await store.meta.listBundles()).filter((b) => b.creator === m.creator && b.status === 'imported' && b.id !== bundleId);
  const clash = mine.find((b) => b.sequence === m.sequence);
  if (clash) {
    throw new AirlockError(
      'CUSTODY_REFUSED',
      `bundle ${m.name}: sequence ${m.sequence} from ${m.creator} was already imported as ${clash.id} (a replay or a reused number)`,
    );
  }
  const highest = mine.reduce((n, b) => Math.max(n, b.sequence), 0);
  if (m.sequence < highest) return `bundle ${m.name}: sequence ${m.sequence} from ${m.creator} fills a gap (highest imported: ${highest})`;
  if (m.sequence > highest + 1) {
    const used = new Set(mine.map((b) => b.sequence));
    const gaps = Array.from({ length: m.sequence - highest - 1 }, (_, i) => highest + 1 + i).filter((s) => !used.has(s));
    if (gaps.length)
      return `bundle ${m.name}: sequence ${m.sequence} from ${m.creator}; not yet imported: ${gaps.slice(0, 10).join(', ')}${gaps.length > 10 ? ', …' : ''}`;
  }
  return undefined;
}
