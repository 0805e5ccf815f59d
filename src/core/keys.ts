import { type KeyObject, createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { AirlockError, describeError } from './errors.js';

/** A key's stable id: the hex sha256 of its SubjectPublicKeyInfo DER, the same wherever it is computed. */
export function keyIdOf(pub: KeyObject): string {
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

export interface GeneratedKey {
  privatePem: string;
  publicPem: string;
  keyId: string;
}

/** An Ed25519 pair: PKCS#8 PEM (AES-256-CBC under `passphrase` when given) and SPKI PEM. */
export function generateKey(passphrase?: string): GeneratedKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePem = privateKey.export({
    type: 'pkcs8',
    format: 'pem',
    ...(passphrase ? { cipher: 'aes-256-cbc', passphrase } : {}),
  }) as string;
  return { privatePem, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string, keyId: keyIdOf(publicKey) };
}

/** Reads a private key PEM; an encrypted one needs its passphrase. Only Ed25519 is accepted. */
export function readPrivateKey(pem: string, label: string, passphrase?: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem', ...(passphrase ? { passphrase } : {}) });
  } catch (e) {
    const encrypted = pem.includes('ENCRYPTED');
    throw new AirlockError(
      'CONFIG_INVALID',
      encrypted && !passphrase
        ? `${label}: the key is encrypted; set AIRLOCK_KEY_PASSPHRASE`
        : `${label}: not a readable private key (${(e as Error).message.split('\n')[0]})`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new AirlockError('CONFIG_INVALID', `${label}: an ${key.asymmetricKeyType} key; airlock signs with Ed25519`);
  return key;
}

export function readPublicKey(pem: string, label: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new AirlockError('CONFIG_INVALID', `${label}: not a readable public key (${(e as Error).message.split('\n')[0]})`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new AirlockError('CONFIG_INVALID', `${label}: an ${key.asymmetricKeyType} key; airlock verifies Ed25519`);
  return key;
}

/** A private key file; `ask` supplies the passphrase, and is called only for an encrypted key. */
export async function loadPrivateKey(file: string, ask?: () => Promise<string>): Promise<KeyObject> {
  let pem: string;
  try {
    pem = await readFile(file, 'utf8');
  } catch (e) {
    throw new AirlockError('CONFIG_INVALID', `${file}: ${describeError(e)}`);
  }
  return readPrivateKey(pem, file, pem.includes('ENCRYPTED') && ask ? await ask() : undefined);
}
