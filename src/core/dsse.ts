import { type KeyObject, sign, verify } from 'node:crypto';

/** A DSSE envelope (github.com/secure-systems-lab/dsse, protocol v1). */
export interface Envelope {
  payloadType: string;
  /** Base64 of the payload bytes. */
  payload: string;
  signatures: { keyid: string; sig: string }[];
}

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** DSSE's pre-authentication encoding: `DSSEv1 <len(type)> <type> <len(body)> <body>`. */
export function pae(payloadType: string, body: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${body.length} `), body]);
}

export function signEnvelope(payloadType: string, body: Buffer, key: KeyObject, keyid: string): Envelope {
  const sig = sign(null, pae(payloadType, body), key);
  return { payloadType, payload: body.toString('base64'), signatures: [{ keyid, sig: sig.toString('base64') }] };
}

/** True when one of the envelope's signatures by `keyid` verifies with `key`. */
export function verifyEnvelope(env: Envelope, key: KeyObject, keyid: string): boolean {
  const body = Buffer.from(env.payload, 'base64');
  return env.signatures.some((s) => {
    if (s.keyid !== keyid) return false;
    try {
      return verify(null, pae(env.payloadType, body), key, Buffer.from(s.sig, 'base64'));
    } catch {
      return false;
    }
  });
}
