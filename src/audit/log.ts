import { hostname, userInfo } from 'node:os';
import { canonicalJson } from '../core/canonical-json.js';
import type { AuditEvent, AuditRow } from '../core/metadata.js';
import type { Store } from '../core/store.js';
import { type ChainCheck, ChainWalker, entryHash } from './chain.js';

/** Who runs this CLI, as the audit log names a local actor. */
export function localActor(): string {
  try {
    return `local:${userInfo().username}@${hostname()}`;
  } catch {
    return `local:${hostname()}`;
  }
}

/** Appends one event to the store's hash-chained log (the chain is extended in one transaction). */
export function audit(store: Store, e: AuditEvent): Promise<AuditRow> {
  return store.meta.appendAudit(
    { at: new Date().toISOString(), actor: e.actor, action: e.action, subject: e.subject, outcome: e.outcome, detail: canonicalJson(e.detail ?? {}).trim() },
    entryHash,
  );
}

/** Checks the store's chain against its head, reading the log a row at a time. */
export async function verifyStoreAudit(store: Store): Promise<ChainCheck> {
  const head = await store.meta.auditHead();
  const walker = new ChainWalker();
  for await (const r of store.meta.iterateAudit()) {
    if (!head) return { ok: false, at: 1, why: 'the log has entries but no head record: it was tampered with' };
    const bad = walker.next(r);
    if (bad) return bad;
  }
  return walker.end(head);
}
