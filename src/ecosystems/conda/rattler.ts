import { AirlockError } from '../../core/errors.js';
import type { VirtualPackage } from './platforms.js';

type Rattler = typeof import('@conda-org/rattler');
let loaded: Promise<Rattler> | undefined;

/** The conda org's solver and version rules (Rust compiled to wasm), loaded on first use. */
function rattler(): Promise<Rattler> {
  loaded ??= import('@conda-org/rattler');
  return loaded;
}

/**
 * Solves `specs` against `channels` for one subdir (with noarch), as conda would on a machine
 * that provides `virtual`. simpleSolve takes no virtual packages, so they go in as installed
 * packages the solver may keep (they never come back: `__` names are not downloadable).
 * Returns the URL of every package the solution holds.
 */
export async function solve(
  specs: string[],
  channels: string[],
  subdir: string,
  virtual: VirtualPackage[],
  label: string,
): Promise<string[]> {
  const r = await rattler();
  const installed = virtual.map((v) => ({
    url: `https://virtual.invalid/${subdir}/${v.name}-${v.version}-${v.build}.conda`,
    packageName: v.name,
    version: v.version,
    build: v.build,
    buildNumber: 0n,
    filename: `${v.name}-${v.version}-${v.build}.conda`,
    subdir,
    depends: [],
  }));
  let solved;
  try {
    solved = await r.simpleSolve(specs, channels, [subdir, 'noarch'] as Parameters<Rattler['simpleSolve']>[2], installed);
  } catch (e) {
    // The solver throws its explanation as a string (or an Error), several lines long.
    const why = (e instanceof Error ? e.message : String(e)).trim().replace(/\s*\n\s*/g, '; ');
    throw new AirlockError('NOT_FOUND', `${label}: cannot solve for ${subdir}: ${why}`);
  }
  return solved.filter((p) => !p.packageName.startsWith('__')).map((p) => p.url);
}

/** conda's version order (`1.10 > 1.9`, `1.0rc1 < 1.0`), for "newest" in served documents. */
export async function versionComparator(): Promise<(a: string, b: string) => number> {
  const { Version } = await rattler();
  const parse = (v: string) => {
    try {
      return new Version(v);
    } catch {
      return undefined;
    }
  };
  return (a, b) => {
    const [x, y] = [parse(a), parse(b)];
    try {
      return x && y ? x.compare(y) : a < b ? -1 : a > b ? 1 : 0;
    } finally {
      x?.free();
      y?.free();
    }
  };
}
