import { audit, localActor } from '../audit/log.js';
import { AirlockError } from '../core/errors.js';
import type { TokenRole, TokenRow } from '../core/metadata.js';
import type { Store } from '../core/store.js';
import { generateToken, hashToken } from '../server/auth.js';

const ROLES: readonly TokenRole[] = ['reader', 'publisher', 'admin'];
const NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function parseRole(role: string): TokenRole {
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new AirlockError('USAGE', `--role: "${role}" is not one of ${ROLES.join(', ')}`);
  }
  return role as TokenRole;
}

/** Returns the plaintext token: the only time it exists outside the client's hands. */
export async function createToken(store: Store, name: string, role: TokenRole, actor = localActor()): Promise<string> {
  if (!NAME.test(name)) throw new AirlockError('USAGE', `--name: "${name}" must be 1-64 of A-Z a-z 0-9 . _ -`);
  const token = generateToken();
  await store.withWriteLock('token create', async () => {
    await store.meta.createToken(name, role, hashToken(token));
    await audit(store, { actor, action: 'token.create', subject: name, outcome: 'created', detail: { role } });
  });
  return token;
}

export function listTokens(store: Store): Promise<TokenRow[]> {
  return store.meta.listTokens();
}

export async function revokeToken(store: Store, name: string): Promise<void> {
  const done = await store.withWriteLock('token revoke', async () => {
    const revoked = await store.meta.revokeToken(name);
    if (revoked) await audit(store, { actor: localActor(), action: 'token.revoke', subject: name, outcome: 'revoked' });
    return revoked;
  });
  if (!done) throw new AirlockError('NOT_FOUND', `token "${name}": no active token has that name`);
}
