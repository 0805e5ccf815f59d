import type { MetadataStore, TokenRole, TokenRow } from '../core/metadata.js';
import { hashToken } from '../core/tokens.js';
import { tokenFromHeader } from '../ecosystems/http/authorization.js';

const RANK: Record<TokenRole, number> = { reader: 1, publisher: 2, admin: 3 };

export function roleAllows(role: TokenRole, needed: TokenRole): boolean {
  return RANK[role] >= RANK[needed];
}

/** Looked up by hash, so no comparison of secrets happens in JavaScript at all. */
export async function authenticate(header: string | undefined, meta: MetadataStore): Promise<TokenRow | undefined> {
  const token = tokenFromHeader(header);
  return token ? meta.findActiveToken(hashToken(token)) : undefined;
}
