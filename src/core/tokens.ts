import { createHash, randomBytes } from 'node:crypto';

/** 32 random bytes; the prefix makes a leaked token easy to recognise in logs and scanners. */
export function generateToken(): string {
  return `airlock_${randomBytes(32).toString('base64url')}`;
}

/** Only this hash is stored. Tokens are long random strings, so a plain sha256 suffices. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
