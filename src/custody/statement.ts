import { z } from 'zod';

export const ROLES = ['origin', 'sponsor', 'verifier', 'courier'] as const;
export type Role = (typeof ROLES)[number];

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** One predicate type per role, so a verifier can never be mistaken for a courier. */
export const predicateTypeOf = (role: Role): string => `https://airlock.dev/custody/${role}/v1`;

/** The predicate every custody statement carries. */
export interface CustodyPredicate {
  role: Role;
  /** The signing key's id (hex sha256 of its SPKI DER). */
  signer: string;
  /** Its public key (SPKI PEM), so anyone can check the signature; whether to trust it is the policy's business. */
  publicKey: string;
  /** RFC 3339, when it was signed. */
  time: string;
  note?: string;
  /** Role data: a verifier's check results by digest, a courier's media id and seal, `--set k=v`. */
  data: Record<string, string>;
  /** The bundle's sequence number and creator, as its manifest says (origin statements). */
  sequence?: number;
}

export interface Statement {
  _type: typeof STATEMENT_TYPE;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: string;
  predicate: CustodyPredicate;
}

const statementSchema = z.object({
  _type: z.literal(STATEMENT_TYPE),
  subject: z.array(z.object({ name: z.string(), digest: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/) }) })).min(1),
  predicateType: z.string(),
  predicate: z.object({
    role: z.enum(ROLES),
    signer: z.string().regex(/^[0-9a-f]{64}$/),
    publicKey: z.string(),
    time: z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'not a time'),
    note: z.string().optional(),
    data: z.record(z.string(), z.string()),
    sequence: z.number().int().nonnegative().optional(),
  }),
});

export function makeStatement(bundleName: string, manifestHex: string, predicate: CustodyPredicate): Statement {
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: bundleName, digest: { sha256: manifestHex } }],
    predicateType: predicateTypeOf(predicate.role),
    predicate,
  };
}

/** Parses a statement from an envelope's payload; undefined when it is not one of ours. */
export function parseStatement(body: Buffer): Statement | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const r = statementSchema.safeParse(doc);
  if (!r.success) return undefined;
  const s = r.data as Statement;
  return s.predicateType === predicateTypeOf(s.predicate.role) ? s : undefined;
}
