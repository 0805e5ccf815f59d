import { createPublicKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { AirlockError } from '../core/errors.js';
import type { AuditRow } from '../core/metadata.js';
import { type Envelope, signEnvelope, verifyEnvelope } from '../core/dsse.js';
import { keyIdOf, readPublicKey } from '../core/keys.js';
import { type ChainCheck, checkChain } from './chain.js';

export const AUDIT_EXPORT_TYPE = 'application/vnd.airlock.audit-export.v1+json';

interface ExportPayload {
  exportedAt: string;
  /** The signer's public key (SPKI PEM); trust in it is the reader's decision (`--pub`). */
  publicKey: string;
  head: { count: number; hash: string };
  entries: Omit<AuditRow, 'id'>[];
}

/** The whole log as one DSSE envelope, signed, for an officer to check on another machine. */
export function exportAudit(rows: readonly AuditRow[], key: KeyObject): Envelope {
  const pub = createPublicKey(key);
  const entries = rows.map(({ id: _id, ...r }) => r);
  const payload: ExportPayload = {
    exportedAt: new Date().toISOString(),
    publicKey: pub.export({ type: 'spki', format: 'pem' }) as string,
    head: { count: entries.length, hash: entries.at(-1)?.hash ?? '' },
    entries,
  };
  return signEnvelope(AUDIT_EXPORT_TYPE, Buffer.from(JSON.stringify(payload)), key, keyIdOf(pub));
}

const rowSchema = z.object({
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  subject: z.string(),
  outcome: z.string(),
  detail: z.string(),
  prevHash: z.string(),
  hash: z.string(),
});
const payloadSchema = z.object({
  exportedAt: z.string(),
  publicKey: z.string(),
  head: z.object({ count: z.number().int(), hash: z.string() }),
  entries: z.array(rowSchema),
});

/** Checks an export: its signature (by the pinned key when given) and the chain it carries. */
export function verifyExport(text: string, file: string, pinnedPem?: string): ChainCheck & { keyId: string; exportedAt: string } {
  let env: Envelope;
  try {
    env = JSON.parse(text) as Envelope;
  } catch {
    throw new AirlockError('AUDIT_BROKEN', `${file}: not a JSON envelope`);
  }
  if (env?.payloadType !== AUDIT_EXPORT_TYPE || typeof env.payload !== 'string' || !Array.isArray(env.signatures)) {
    throw new AirlockError('AUDIT_BROKEN', `${file}: not an airlock audit export`);
  }
  let payload: ExportPayload;
  try {
    const r = payloadSchema.safeParse(JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')));
    if (!r.success) throw new Error(r.error.issues[0]!.message);
    payload = r.data;
  } catch (e) {
    throw new AirlockError('AUDIT_BROKEN', `${file}: unreadable payload (${(e as Error).message})`);
  }
  const key = readPublicKey(pinnedPem ?? payload.publicKey, pinnedPem ? '--pub' : `${file}: publicKey`);
  const keyId = keyIdOf(key);
  if (pinnedPem && keyIdOf(readPublicKey(payload.publicKey, file)) !== keyId) {
    throw new AirlockError('AUDIT_BROKEN', `${file}: signed by another key than the one given with --pub`);
  }
  if (!verifyEnvelope(env, key, keyId))
    throw new AirlockError('AUDIT_BROKEN', `${file}: the signature does not verify (the export was changed)`);
  return { ...checkChain(payload.entries, payload.head), keyId, exportedAt: payload.exportedAt };
}
