import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { AirlockError, describeError, quoteShort } from '../../core/errors.js';
import { urlCredentialProblem } from '../../manifest/url.js';
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
  /** Who depends on this copy, and with what range. */
  dependents: Dependent[];
}

/** One dependency on a package, as `lock --explain` tells it. */
export interface Dependent {
  /** `vite@5.4.0`, or the project: `app@1.0.0 (package-lock.json)`. */
  by: string;
  /** The name it is asked by (an alias's own name). */
  as: string;
  /** The range, as written: `^0.21.3`, `npm:other@^1`. */
  range: string;
  kind?: 'optional' | 'peer' | 'dev';
}

const DEPENDENCY_FIELDS = [
  ['dependencies', undefined],
  ['optionalDependencies', 'optional'],
  ['peerDependencies', 'peer'],
  ['devDependencies', 'dev'],
] as const;

/**
 * The entry a dependency of the package at `from` resolves to, by Node's lookup: its own
 * node_modules first, then each enclosing one up to the root's.
 */
function locate(from: string, dep: string, has: (key: string) => boolean): string | undefined {
  let base = from;
  for (;;) {
    const key = base ? `${base}/node_modules/${dep}` : `node_modules/${dep}`;
    if (has(key)) return key;
    if (!base) return undefined;
    const at = base.lastIndexOf('/node_modules/');
    base = at < 0 ? '' : base.slice(0, at);
  }
}

/** Every entry's dependents, by entry key. */
function dependentsOf(packages: Record<string, Record<string, unknown>>, project: string): Map<string, Dependent[]> {
  const out = new Map<string, Dependent[]>();
  const has = (k: string) => k in packages;
  for (const [key, p] of Object.entries(packages)) {
    const name = typeof p.name === 'string' ? p.name : key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const by = key === '' ? project : `${name}@${String(p.version)}`;
    for (const [field, kind] of DEPENDENCY_FIELDS) {
      // A dependency's devDependencies are never installed; only the project's are.
      if (field === 'devDependencies' && key !== '') continue;
      const deps = p[field];
      if (!deps || typeof deps !== 'object') continue;
      for (const [dep, range] of Object.entries(deps as Record<string, unknown>)) {
        // npm lists an optional dependency under dependencies too.
        if (field === 'dependencies' && (p.optionalDependencies as Record<string, unknown> | undefined)?.[dep] !== undefined) continue;
        const at = locate(key, dep, has);
        if (!at) continue;
        const list = out.get(at) ?? [];
        list.push({ by, as: dep, range: String(range), ...(kind ? { kind } : {}) });
        out.set(at, list);
      }
    }
  }
  return out;
}

/**
 * The `packages` of a package-lock.json or npm-shrinkwrap.json (lockfileVersion 2 or 3).
 * Links, the root project and bundled dependencies (inside their parent's tarball) carry no
 * tarball of their own and are left out.
 */
export async function readPackageLock(path: string): Promise<LockedPackage[]> {
  let doc: unknown;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new AirlockError('CONFIG_INVALID', `${path}: cannot read (${describeError(e)})`);
  }
  try {
    doc = JSON.parse(text);
  } catch {
    // The parser's message quotes the file's text; a lockfile of another tool is the usual cause.
    throw new AirlockError('CONFIG_INVALID', `${path}: not an npm package-lock (not JSON); yarn.lock and pnpm-lock.yaml are not read`, {
      hint: 'npm install --package-lock-only writes a package-lock.json for the project',
    });
  }
  return parsePackageLock(doc, path);
}

/** What a JSON value is, for messages that must not quote it. */
function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null || v === undefined) return 'missing';
  return typeof v === 'object' ? 'a mapping' : `a ${typeof v}`;
}

/** `resolved` as a message may tell it: its scheme at most, never the rest (a git URL may carry a token). */
function resolvedProblem(resolved: unknown): string | undefined {
  if (resolved === undefined) return undefined;
  if (typeof resolved !== 'string') return `resolved is ${kindOf(resolved)}`;
  const scheme = /^([a-z][a-z0-9+.-]{0,30}):/i.exec(resolved)?.[1];
  if (!scheme) return 'resolved is not a URL (a file dependency?); airlock carries registry tarballs';
  if (!/^https?$/i.test(scheme) || !/^https?:\/\//i.test(resolved))
    return `resolved is a ${scheme}: URL (a git or file dependency?); airlock carries registry tarballs`;
  const bad = urlCredentialProblem(resolved, 'npm credentials come from .npmrc (//host/:_authToken=${TOKEN}), as npm reads them');
  return bad ? `resolved ${bad}` : undefined;
}

/**
 * The same, for a lock already in memory (the one built from `packages:`); `project` names
 * the root as a dependent (default: its name and version, and the file).
 */
export function parsePackageLock(raw: unknown, path: string, project?: string): LockedPackage[] {
  const file = basename(path);
  const doc = (raw ?? {}) as { lockfileVersion?: unknown; packages?: Record<string, Record<string, unknown>> };
  if (doc.lockfileVersion !== 2 && doc.lockfileVersion !== 3) {
    const v = doc.lockfileVersion;
    const seen = typeof v === 'number' ? String(v) : typeof v === 'string' ? quoteShort(v) : `is ${kindOf(v)}`;
    throw new AirlockError('CONFIG_INVALID', `${path}: lockfileVersion ${seen}; airlock reads 2 and 3 (npm 7 and later)`, {
      hint: 'run npm install --lockfile-version 3 to rewrite it',
    });
  }
  const root = doc.packages?.[''] ?? {};
  const rootName =
    typeof root.name === 'string' ? `${root.name}${typeof root.version === 'string' ? `@${root.version}` : ''} (${file})` : file;
  const dependents = dependentsOf(doc.packages ?? {}, project ?? rootName);
  const out: LockedPackage[] = [];
  for (const [key, p] of Object.entries(doc.packages ?? {})) {
    if (key === '' || p.link || p.inBundle) continue;
    // Messages quote a short prefix of the key: the file may be anything, and the key is not yet known to be a package path.
    const where = `${file}: packages ${quoteShort(key)}`;
    const at = key.lastIndexOf('node_modules/');
    const name = typeof p.name === 'string' ? p.name : key.slice(at + 'node_modules/'.length);
    if (at < 0 || !isPackageName(name)) throw new AirlockError('CONFIG_INVALID', `${where}: not a package path`);
    if (typeof p.version !== 'string') throw new AirlockError('CONFIG_INVALID', `${where}: no version`);
    const bad = resolvedProblem(p.resolved);
    if (bad) throw new AirlockError('CONFIG_INVALID', `${where}: ${bad}`);
    const origin = `${file}: ${key}`;
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
      dependents: dependents.get(key) ?? [],
    });
  }
  return out;
}
