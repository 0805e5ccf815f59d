import { entryHash } from '../core/audit-entry.js';
import type { AuditRow } from '../core/metadata.js';

export type ChainCheck = { ok: true; count: number; head: string } | { ok: false; at: number; why: string };

/**
 * Walks the chain an entry at a time, so a log of any size is checked in constant memory:
 * each entry must name the previous entry's hash and hash to its own. An edited entry fails
 * its own hash; a deleted, reordered or inserted one breaks the link of the entry after it.
 */
export class ChainWalker {
  private prev = '';
  private count = 0;

  /** The first problem, at this entry; undefined while the chain holds. */
  next(r: Omit<AuditRow, 'id'>): ChainCheck | undefined {
    const n = ++this.count;
    if (r.prevHash !== this.prev)
      return {
        ok: false,
        at: n,
        why: `entry ${n} (${r.action} ${r.subject}) does not follow entry ${n - 1}: an entry was deleted, inserted or moved`,
      };
    if (entryHash(r) !== r.hash)
      return { ok: false, at: n, why: `entry ${n} (${r.action} ${r.subject}) was edited: it no longer matches its hash` };
    this.prev = r.hash;
    return undefined;
  }

  /** After the last entry: `expectedHead` (kept outside the table) catches a deleted last entry. */
  end(expectedHead?: { hash: string; count: number }): ChainCheck {
    if (expectedHead && (expectedHead.count !== this.count || expectedHead.hash !== this.prev)) {
      return {
        ok: false,
        at: this.count,
        why: `the log ends at entry ${this.count}, but ${expectedHead.count} were written: entries were deleted from the end`,
      };
    }
    return { ok: true, count: this.count, head: this.prev };
  }
}

export function checkChain(rows: readonly Omit<AuditRow, 'id'>[], expectedHead?: { hash: string; count: number }): ChainCheck {
  const walker = new ChainWalker();
  for (const r of rows) {
    const bad = walker.next(r);
    if (bad) return bad;
  }
  return walker.end(expectedHead);
}
