import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';
import type { AuditRow } from '../core/metadata.js';

/** An entry's hash: sha256 over the canonical JSON of every field but its id and its own hash. */
export function entryHash(e: Omit<AuditRow, 'id' | 'hash'>): string {
  const { at, actor, action, subject, outcome, detail, prevHash } = e;
  return createHash('sha256').update(canonicalJson({ at, actor, action, subject, outcome, detail, prevHash })).digest('hex');
}

export type ChainCheck = { ok: true; count: number; head: string } | { ok: false; at: number; why: string };

/**
 * Walks the chain: each entry must name the previous entry's hash and hash to its own. An
 * edited entry fails its own hash; a deleted, reordered or inserted one breaks the link of the
 * entry after it. `expectedHead` (kept outside the table) catches a deleted last entry.
 */
export function checkChain(rows: readonly Omit<AuditRow, 'id'>[], expectedHead?: { hash: string; count: number }): ChainCheck {
  let prev = '';
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (r.prevHash !== prev) return { ok: false, at: i + 1, why: `entry ${i + 1} (${r.action} ${r.subject}) does not follow entry ${i}: an entry was deleted, inserted or moved` };
    if (entryHash(r) !== r.hash) return { ok: false, at: i + 1, why: `entry ${i + 1} (${r.action} ${r.subject}) was edited: it no longer matches its hash` };
    prev = r.hash;
  }
  if (expectedHead && (expectedHead.count !== rows.length || expectedHead.hash !== prev)) {
    return { ok: false, at: rows.length, why: `the log ends at entry ${rows.length}, but ${expectedHead.count} were written: entries were deleted from the end` };
  }
  return { ok: true, count: rows.length, head: prev };
}
