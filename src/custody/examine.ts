import { type Envelope, IN_TOTO_PAYLOAD_TYPE, verifyEnvelope } from '../core/dsse.js';
import { keyIdOf, readPublicKey } from '../core/keys.js';
import { type CustodyPredicate, parseStatement } from './statement.js';

/** One custody signature as checked against a bundle, before any trust decision. */
export interface ExaminedSignature {
  /** Its position in the custody file, from 1. */
  line: number;
  role?: CustodyPredicate['role'];
  keyId?: string;
  time?: string;
  note?: string;
  data?: Record<string, string>;
  sequence?: number;
  /** valid: the signature verifies and the statement names this bundle's manifest. */
  status: 'valid' | 'bad-signature' | 'other-bundle' | 'not-a-statement';
}

/** Checks every envelope: its statement, its subject (this manifest) and its signature by the key it names. */
export function examineCustody(envelopes: readonly Envelope[], manifestHex: string): ExaminedSignature[] {
  return envelopes.map((env, i) => {
    const line = i + 1;
    const s = env.payloadType === IN_TOTO_PAYLOAD_TYPE ? parseStatement(Buffer.from(env.payload, 'base64')) : undefined;
    if (!s) return { line, status: 'not-a-statement' };
    const p = s.predicate;
    const facts = {
      line,
      role: p.role,
      keyId: p.signer,
      time: p.time,
      data: p.data,
      ...(p.note ? { note: p.note } : {}),
      ...(p.sequence !== undefined ? { sequence: p.sequence } : {}),
    };
    let ok: boolean;
    try {
      const key = readPublicKey(p.publicKey, 'custody');
      ok = keyIdOf(key) === p.signer && verifyEnvelope(env, key, p.signer);
    } catch {
      ok = false;
    }
    if (!ok) return { ...facts, status: 'bad-signature' };
    if (!s.subject.some((x) => x.digest.sha256 === manifestHex)) return { ...facts, status: 'other-bundle' };
    return { ...facts, status: 'valid' };
  });
}
