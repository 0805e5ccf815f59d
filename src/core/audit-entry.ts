import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { AuditEvent, AuditRow } from './metadata.js';

/**
 * An entry's hash: sha256 over the canonical JSON of every field but its id and its own hash.
 * In core, not audit, because a metadata store extends the chain inside the transaction of the
 * change it records; the audit layer's chain walker checks with this same function.
 */
export function entryHash(e: Omit<AuditRow, 'id' | 'hash'>): string {
  const { at, actor, action, subject, outcome, detail, prevHash } = e;
  return createHash('sha256').update(canonicalJson({ at, actor, action, subject, outcome, detail, prevHash })).digest('hex');
}

/** What an event becomes in the log before it is chained: the time now and its detail as canonical JSON. */
export function auditFields(e: AuditEvent): Omit<AuditRow, 'id' | 'prevHash' | 'hash'> {
  return {
    at: new Date().toISOString(),
    actor: e.actor,
    action: e.action,
    subject: e.subject,
    outcome: e.outcome,
    detail: canonicalJson(e.detail ?? {}).trim(),
  };
}
