import { createPublicKey } from 'node:crypto';
import { hexOf } from '../core/digest.js';
import type { VolumeInfo } from '../bundle/reader.js';
import { appendCustody, custodyPath } from './custody-file.js';
import { IN_TOTO_PAYLOAD_TYPE, signEnvelope } from '../core/dsse.js';
import { keyIdOf, loadPrivateKey } from '../core/keys.js';
import { type Role, makeStatement } from './statement.js';

export interface SignRequest {
  keyFile: string;
  /** Asked only when the key is encrypted. */
  passphrase?: () => Promise<string>;
  role: Role;
  note?: string;
  data: Record<string, string>;
}

/**
 * Appends one signed statement about a bundle to its custody file. The bundle's bytes never
 * change: the statement's subject is the manifest digest every volume shares.
 */
export async function signBundle(file: string, info: VolumeInfo, req: SignRequest): Promise<{ custodyFile: string; keyId: string }> {
  const key = await loadPrivateKey(req.keyFile, req.passphrase);
  const pub = createPublicKey(key);
  const keyId = keyIdOf(pub);
  const statement = makeStatement(info.manifest.name, hexOf(info.bundleId), {
    role: req.role,
    signer: keyId,
    publicKey: pub.export({ type: 'spki', format: 'pem' }) as string,
    time: new Date().toISOString(),
    ...(req.note ? { note: req.note } : {}),
    data: req.data,
    ...(req.role === 'origin' ? { sequence: info.manifest.sequence } : {}),
  });
  const env = signEnvelope(IN_TOTO_PAYLOAD_TYPE, Buffer.from(JSON.stringify(statement)), key, keyId);
  const custodyFile = custodyPath(file);
  await appendCustody(custodyFile, env);
  return { custodyFile, keyId };
}
