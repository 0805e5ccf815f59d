import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AirlockError } from '../core/errors.js';
import type { ExaminedSignature } from './examine.js';
import { keyIdOf, readPublicKey } from '../core/keys.js';
import { ROLES, type Role } from './statement.js';

/** A trust policy as the store keeps it: keys resolved to PEM and id, ages in milliseconds. */
export interface TrustPolicy {
  keys: Record<string, { keyId: string; publicKey: string }>;
  roles: Partial<Record<Role, { keys: string[]; threshold: number }>>;
  rules: { separateDuties: boolean; maxAgeMs?: number; requireRoles: Role[] };
  revoked: string[];
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const yamlSchema = z
  .object({
    keys: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'key names are letters, digits, . _ -'), z.string().min(1)),
    roles: z.partialRecord(z.enum(ROLES), z.object({ keys: z.array(z.string()).min(1), threshold: z.number().int().min(1) }).strict()),
    rules: z
      .object({
        separateDuties: z.boolean().default(true),
        maxAge: z.string().regex(DURATION, 'expected a duration like 30d, 12h').optional(),
        requireRoles: z.array(z.enum(ROLES)).optional(),
      })
      .strict()
      .default({ separateDuties: true }),
    revoked: z.array(z.string().regex(/^[0-9a-f]{64}$/, 'expected a key id (64 hex)')).default([]),
  })
  .strict();

/** Reads trust.yaml: keys inline (PEM) or as `.pub` files beside it; every reference checked. */
export function parseTrustPolicy(text: string, file: string): TrustPolicy {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new AirlockError('CONFIG_INVALID', `${file}: YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const r = yamlSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new AirlockError('CONFIG_INVALID', `${file}: ${i.path.join('.') || '(top)'}: ${i.message}`);
  }
  const doc = r.data;
  const keys: TrustPolicy['keys'] = {};
  for (const [name, value] of Object.entries(doc.keys)) {
    let pem = value;
    if (!value.includes('-----BEGIN')) {
      try {
        pem = readFileSync(resolve(dirname(file), value), 'utf8');
      } catch {
        throw new AirlockError('CONFIG_INVALID', `${file}: keys.${name}: cannot read ${value}`);
      }
    }
    const key = readPublicKey(pem, `${file}: keys.${name}`);
    keys[name] = { keyId: keyIdOf(key), publicKey: key.export({ type: 'spki', format: 'pem' }) as string };
  }
  const ids = Object.values(keys).map((k) => k.keyId);
  if (new Set(ids).size !== ids.length) throw new AirlockError('CONFIG_INVALID', `${file}: keys: the same key is listed under two names`);
  for (const [role, rule] of Object.entries(doc.roles)) {
    for (const k of rule.keys) if (!keys[k]) throw new AirlockError('CONFIG_INVALID', `${file}: roles.${role}: unknown key "${k}"`);
    if (rule.threshold > new Set(rule.keys).size)
      throw new AirlockError('CONFIG_INVALID', `${file}: roles.${role}: threshold ${rule.threshold} but only ${rule.keys.length} key(s)`);
  }
  const requireRoles = doc.rules.requireRoles ?? (Object.keys(doc.roles) as Role[]);
  for (const role of requireRoles)
    if (!doc.roles[role]) throw new AirlockError('CONFIG_INVALID', `${file}: rules.requireRoles: ${role} has no entry under roles`);
  const age = doc.rules.maxAge ? DURATION.exec(doc.rules.maxAge) : null;
  return {
    keys,
    roles: doc.roles,
    rules: {
      separateDuties: doc.rules.separateDuties,
      requireRoles,
      ...(age ? { maxAgeMs: Number(age[1]) * UNIT[age[2] as keyof typeof UNIT] } : {}),
    },
    revoked: doc.revoked,
  };
}

/** How far ahead of this clock a statement's time may be: machines on either side of the gap drift apart a little. */
export const CLOCK_SKEW_MS = 5 * 60_000;

export type Verdict = { ok: true; counted: Partial<Record<Role, string[]>>; signedAt?: string } | { ok: false; reasons: string[] };

/**
 * Whether a bundle's custody satisfies the policy: each required role reaches its threshold
 * with distinct, known, unrevoked keys; with separateDuties no key counts in two roles; and
 * the origin signed it within maxAge. A statement dated beyond the clock-skew allowance is
 * refused, so a future date cannot make a bundle look younger than it is. Every shortfall is named.
 */
export function evaluateCustody(policy: TrustPolicy, sigs: readonly ExaminedSignature[], now: Date): Verdict {
  const nameOf = new Map(Object.entries(policy.keys).map(([name, k]) => [k.keyId, name]));
  const reasons: string[] = [];
  const valid = sigs.filter((s) => s.status === 'valid');
  for (const s of sigs) {
    if (s.status === 'bad-signature') reasons.push(`custody line ${s.line}: the signature does not verify (edited or forged)`);
    if (s.status === 'not-a-statement') reasons.push(`custody line ${s.line}: not an airlock custody statement`);
    if (s.status === 'other-bundle')
      reasons.push(`custody line ${s.line}: ${s.role} signature by ${nameOf.get(s.keyId!) ?? s.keyId!.slice(0, 12)} is for another bundle`);
    if (s.status === 'valid' && Date.parse(s.time!) > now.getTime() + CLOCK_SKEW_MS) {
      reasons.push(
        `custody line ${s.line}: ${s.role} signature by ${nameOf.get(s.keyId!) ?? s.keyId!.slice(0, 12)} is dated ${s.time}, later than now plus the 5-minute clock-skew allowance (now ${now.toISOString()})`,
      );
    }
  }
  const counted: Partial<Record<Role, string[]>> = {};
  const rolesOfKey = new Map<string, Set<Role>>();
  for (const role of policy.rules.requireRoles) {
    const rule = policy.roles[role]!;
    const names = new Set<string>();
    const notes: string[] = [];
    for (const s of valid.filter((x) => x.role === role)) {
      const name = nameOf.get(s.keyId!);
      if (!name) notes.push(`key ${s.keyId!.slice(0, 12)}… is not in the policy`);
      else if (policy.revoked.includes(s.keyId!)) notes.push(`${name} is revoked`);
      else if (!rule.keys.includes(name)) notes.push(`${name} may not sign as ${role}`);
      else {
        names.add(name);
        rolesOfKey.set(name, (rolesOfKey.get(name) ?? new Set()).add(role));
      }
    }
    counted[role] = [...names].sort();
    if (names.size < rule.threshold) {
      reasons.push(
        `${role} needs ${rule.threshold} of ${rule.keys.join(', ')}; has ${names.size}${names.size ? ` (${[...names].sort().join(', ')})` : ''}${notes.length ? `; ${notes.join('; ')}` : ''}`,
      );
    }
  }
  if (policy.rules.separateDuties) {
    for (const [name, roles] of rolesOfKey)
      if (roles.size > 1) reasons.push(`separateDuties: ${name} signed as ${[...roles].sort().join(' and ')}`);
  }
  const origin = valid
    .filter((s) => s.role === 'origin' && nameOf.has(s.keyId!))
    .map((s) => s.time!)
    .sort()[0];
  if (policy.rules.maxAgeMs !== undefined) {
    if (!origin) reasons.push('maxAge: no trusted origin signature says when the bundle was made');
    else if (now.getTime() - Date.parse(origin) > policy.rules.maxAgeMs)
      reasons.push(`maxAge: the origin signed it at ${origin}, longer ago than the policy allows`);
  }
  return reasons.length ? { ok: false, reasons } : { ok: true, counted, ...(origin ? { signedAt: origin } : {}) };
}
