import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { AirlockError, describeError } from '../../core/errors.js';
import { isPackageName } from './names.js';

/** One package a package-lock pins. */
export interface LockedPackage {
  name: string;
  version: string;
  /** The tarball URL; npm leaves it out at times, and then the registry's packument names it. */
  resolved?: string;
  integrity?: string;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  dev: boolean;
  optional: boolean;
  /** `package-lock.json: node_modules/x/node_modules/y`, for messages. */
  origin: string;
}

/**
 * The `packages` of a package-lock.json or npm-shrinkwrap.json (lockfileVersion 2 or 3).
 * Links, the root project and bundled dependencies (inside their parent's tarball) carry no
 * tarball of their own and are left out.
 */
export async function readPackageLock(path: string): Promise<LockedPackage[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new AirlockError('CONFIG_INVALID', `${path}: ${describeError(e)}`);
  }
  return parsePackageLock(doc, path);
}

/** The same, for a lock already in memory (the one built from `packages:`). */
export function parsePackageLock(raw: unknown, path: string): LockedPackage[] {
  const file = basename(path);
  const doc = (raw ?? {}) as { lockfileVersion?: unknown; packages?: Record<string, Record<string, unknown>> };
  if (doc.lockfileVersion !== 2 && doc.lockfileVersion !== 3) {
    throw new AirlockError('CONFIG_INVALID', `${path}: lockfileVersion ${String(doc.lockfileVersion)}; airlock reads 2 and 3 (npm 7 and later)`, {
      hint: 'run npm install --lockfile-version 3 to rewrite it',
    });
  }
  const out: LockedPackage[] = [];
  for (const [key, p] of Object.entries(doc.packages ?? {})) {
    if (key === '' || p.link || p.inBundle) continue;
    const origin = `${file}: ${key}`;
    const at = key.lastIndexOf('node_modules/');
    const name = typeof p.name === 'string' ? p.name : key.slice(at + 'node_modules/'.length);
    if (at < 0 || !isPackageName(name)) throw new AirlockError('CONFIG_INVALID', `${origin}: not a package path`);
    if (typeof p.version !== 'string') throw new AirlockError('CONFIG_INVALID', `${origin}: no version`);
    if (p.resolved !== undefined && (typeof p.resolved !== 'string' || !/^https?:\/\//.test(p.resolved))) {
      throw new AirlockError('CONFIG_INVALID', `${origin}: resolved is ${String(p.resolved)} (a git or file dependency?); airlock carries registry tarballs`);
    }
    const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : undefined);
    out.push({
      name,
      version: p.version,
      ...(typeof p.resolved === 'string' ? { resolved: p.resolved } : {}),
      ...(typeof p.integrity === 'string' ? { integrity: p.integrity } : {}),
      ...(list(p.os) ? { os: list(p.os)! } : {}),
      ...(list(p.cpu) ? { cpu: list(p.cpu)! } : {}),
      ...(list(p.libc) ? { libc: list(p.libc)! } : {}),
      dev: p.dev === true,
      optional: p.optional === true || p.devOptional === true,
      origin,
    });
  }
  return out;
}
