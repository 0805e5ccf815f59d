import { createHash, randomBytes } from 'node:crypto';
import type { MetadataStore, TokenRole, TokenRow } from '../core/metadata.js';
import { tokenFromHeader } from '../ecosystems/http/authorization.js';

const RANK: Record<TokenRole, number> = { reader: 1, publisher: 2, admin: 3 };

export function roleAllows(role: TokenRole, needed: TokenRole): boolean {
  return RANK[role] >= RANK[needed];
}

/** 32 random bytes; the prefix makes a leaked token easy to recognise in logs and scanners. */
export function generateToken(): string {
  return `airlock_${randomBytes(32).toString('base64url')}`;
}

/** Only this hash is stored. Tokens are long random strings, so a plain sha256 suffices. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Looked up by hash, so no comparison of secrets happens in JavaScript at all. */
export async function authenticate(header: string | undefined, meta: MetadataStore): Promise<TokenRow | undefined> {
  const token = tokenFromHeader(header);
  return token ? meta.findActiveToken(hashToken(token)) : undefined;
}
