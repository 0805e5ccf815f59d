import { readFile } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { canonicalJson } from '../core/canonical-json.js';
import { writeFileAtomic } from '../core/fsutil.js';
import type { AuditRow } from '../core/metadata.js';
import type { Store } from '../core/store.js';
import { type ChainCheck, checkChain, entryHash } from './chain.js';

export interface AuditEvent {
  /** A token's name for the server, `user@host` for the CLI. */
  actor: string;
  /** `import`, `custody.override`, `trust.set`, `token.create`, `token.revoke`, `pypi.upload`, `oci.push`, `oci.delete`, `verify` */
  action: string;
  subject: string;
  outcome: string;
  detail?: Record<string, unknown>;
}

/** Who runs this CLI, as the audit log names a local actor. */
export function localActor(): string {
  try {
    return `local:${userInfo().username}@${hostname()}`;
  } catch {
    return `local:${hostname()}`;
  }
}

const headFile = (store: Store) => join(store.home, 'audit.head');

/**
 * Appends one event to the store's hash-chained log, and records the new head beside the
 * database so that removing the last entries is noticed too.
 */
export async function audit(store: Store, e: AuditEvent): Promise<AuditRow> {
  const row = await store.meta.appendAudit(
    { at: new Date().toISOString(), actor: e.actor, action: e.action, subject: e.subject, outcome: e.outcome, detail: canonicalJson(e.detail ?? {}).trim() },
    entryHash,
  );
  await writeFileAtomic(headFile(store), `${JSON.stringify({ count: row.id, hash: row.hash })}\n`);
  return row;
}

export async function verifyStoreAudit(store: Store): Promise<ChainCheck> {
  const rows = await store.meta.listAudit();
  let head: { hash: string; count: number } | undefined;
  try {
    head = JSON.parse(await readFile(headFile(store), 'utf8')) as { hash: string; count: number };
  } catch {
    if (rows.length) return { ok: false, at: rows.length, why: `${headFile(store)} is missing: the log's end cannot be checked` };
  }
  return checkChain(rows, head);
}
