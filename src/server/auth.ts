import { createHash, randomBytes } from 'node:crypto';
import type { MetadataStore, TokenRole, TokenRow } from '../core/metadata.js';

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

/** The token an Authorization header carries: `Bearer <token>` or Basic with the token as password. */
function tokenFromHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (!scheme || !value) return undefined;
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

/** Looked up by hash, so no comparison of secrets happens in JavaScript at all. */
export async function authenticate(header: string | undefined, meta: MetadataStore): Promise<TokenRow | undefined> {
  const token = tokenFromHeader(header);
  return token ? meta.findActiveToken(hashToken(token)) : undefined;
}
