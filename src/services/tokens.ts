import { randomBytes } from 'node:crypto';
import { localActor } from '../audit/log.js';
import { AirlockError, isAirlockError } from '../core/errors.js';
import { type TokenRole, type TokenRow, audited } from '../core/metadata.js';
import type { Store } from '../core/store.js';
import { generateToken, hashToken } from '../core/tokens.js';

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
  if (!NAME.test(name)) throw new AirlockError('USAGE', `--name: "${name.slice(0, 80)}" must be 1-64 of A-Z a-z 0-9 . _ -`);
  const token = generateToken();
  await store.withWriteLock('token create', () =>
    audited(store.meta, { actor, action: 'token.create', subject: name, outcome: 'created', detail: { role } }, (tx, because) =>
      tx.createToken(name, role, hashToken(token), because),
    ),
  );
  return token;
}

/**
 * A publisher token minted for the holder of `parent` (npm login), named `<base>-<random>`
 * and recorded as `parent`'s child, so revoking `parent` revokes it. Only a token made with
 * `token create` may mint: otherwise a minted token could outlive its parent's revocation
 * through its own children.
 */
export async function mintToken(store: Store, parent: string, base: string): Promise<{ name: string; token: string }> {
  const token = generateToken();
  return store.withWriteLock('token create', async () => {
    for (let attempt = 0; ; attempt++) {
      // 40 random bits: parallel logins of one name never collide in practice, and if they do the next name is tried.
      const name = `${base.slice(0, 53)}-${randomBytes(5).toString('hex')}`;
      try {
        await store.meta.transaction(async (tx) => {
          // Checked in the transaction that mints: a revocation of the parent cannot slip in between.
          const p = await tx.getToken(parent);
          if (!p || p.revokedAt) throw new AirlockError('AUTH_REQUIRED', `token "${parent}" is not active`);
          if (p.parent)
            throw new AirlockError(
              'FORBIDDEN',
              `token "${parent}" was itself minted by "${p.parent}"; log in with a token made by airlock token create`,
            );
          const because = await tx.audit({
            actor: `token:${parent}`,
            action: 'token.create',
            subject: name,
            outcome: 'created',
            detail: { role: 'publisher', parent },
          });
          await tx.createToken(name, 'publisher', hashToken(token), because, p.id);
        });
      } catch (e) {
        // The clash rolled back its entry with it.
        if (isAirlockError(e) && e.code === 'CONFLICT' && attempt < 3) continue;
        throw e;
      }
      return { name, token };
    }
  });
}

export function listTokens(store: Store): Promise<TokenRow[]> {
  return store.meta.listTokens();
}

export interface Revocation {
  /** The named token had been revoked before: only its children went now. */
  alreadyRevoked: boolean;
  children: string[];
}

/**
 * Revokes a token and, unless `withChildren` is false, every active token it minted. A
 * revoked token's children can be revoked later by revoking it again.
 */
export async function revokeToken(store: Store, name: string, opts: { withChildren?: boolean } = {}): Promise<Revocation> {
  const withChildren = opts.withChildren ?? true;
  const actor = localActor();
  const res = await store.withWriteLock('token revoke', () =>
    store.meta.transaction(async (tx) => {
      // What goes is read first, so each token's entry is written before (and with) its revocation.
      const named = await tx.getToken(name);
      const revoked = named !== undefined && named.revokedAt === null;
      const children = withChildren
        ? (await tx.listTokens()).filter((t) => t.parent === name && t.revokedAt === null).map((t) => t.name)
        : [];
      const entries = [];
      if (revoked) entries.push(await tx.audit({ actor, action: 'token.revoke', subject: name, outcome: 'revoked' }));
      for (const child of children)
        entries.push(await tx.audit({ actor, action: 'token.revoke', subject: child, outcome: 'revoked', detail: { parent: name } }));
      return entries[0] ? tx.revokeToken(name, withChildren, entries[0]) : { revoked: false, children: [] };
    }),
  );
  if (!res.revoked && res.children.length === 0) {
    throw new AirlockError(
      'NOT_FOUND',
      `token "${name}": no active token has that name${withChildren ? ', nor active tokens it minted' : ''}`,
    );
  }
  return { alreadyRevoked: !res.revoked, children: res.children };
}
