import { normalizeName } from './names.js';

export interface DistFilename {
  /** Normalised project name. */
  name: string;
  version: string;
  kind: 'wheel' | 'sdist';
}

/**
 * Project and version from a distribution's filename: wheels per the binary distribution
 * format (`{name}-{version}(-{build})?-{py}-{abi}-{platform}.whl`), sdists per PEP 625
 * (`{name}-{version}.tar.gz`, and legacy `.zip`). Undefined for anything else.
 */
export function parseDistFilename(filename: string): DistFilename | undefined {
  if (filename.includes('/') || filename.includes('\\')) return undefined;
  if (filename.endsWith('.whl')) {
    const parts = filename.slice(0, -4).split('-');
    if (parts.length !== 5 && parts.length !== 6) return undefined;
    if (parts.length === 6 && !/^\d/.test(parts[2]!)) return undefined;
    const [name, version] = parts as [string, string];
    return name && version ? { name: normalizeName(name), version, kind: 'wheel' } : undefined;
  }
  const m = /^(.+)-([^-]+)\.(tar\.gz|zip)$/.exec(filename);
  return m ? { name: normalizeName(m[1]!), version: m[2]!, kind: 'sdist' } : undefined;
}
