import { hostname, userInfo } from 'node:os';
import type { AuditEvent, AuditRow } from '../core/metadata.js';
import type { Store } from '../core/store.js';
import { type ChainCheck, ChainWalker } from './chain.js';

/** Who runs this CLI, as the audit log names a local actor. */
export function localActor(): string {
  try {
    return `local:${userInfo().username}@${hostname()}`;
  } catch {
    return `local:${hostname()}`;
  }
}

/**
 * Appends an event that changes nothing else (a verify run, a refused login) in a transaction
 * of its own; a change is audited by the writers of its own transaction (`tx.audit`).
 */
export function audit(store: Store, e: AuditEvent): Promise<AuditRow> {
  return store.meta.transaction((tx) => tx.audit(e));
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
