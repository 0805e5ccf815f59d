import { AirlockError } from '../../core/errors.js';
import { parsePackageUrl } from './channel.js';
import { type PinnedPackage, parseYamlInput } from './inputs.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
/** The sha256 and md5 an entry (pixi) or its `hash:` (conda-lock) gives, where it gives them. */
const hashesOf = (o: Obj): { sha256?: string; md5?: string } => ({
  ...(str(o.sha256) ? { sha256: str(o.sha256)! } : {}),
  ...(str(o.md5) ? { md5: str(o.md5)! } : {}),
});

/**
 * pixi.lock (versions 4–6) or conda-lock.yml: the conda packages it pins for `subdirs` (noarch
 * packages come with the platform they are listed under). PyPI entries are not conda's: they
 * are reported so the user can list them under `pypi:`.
 */
export function parseCondaLock(text: string, file: string, subdirs: readonly string[]): { packages: PinnedPackage[]; skipped: string[] } {
  const doc = parseYamlInput(text, file);
  if (!isObj(doc)) throw new AirlockError('CONFIG_INVALID', `${file}: not a pixi.lock or conda-lock.yml`);
  if (isObj(doc.environments)) return pixiLock(doc, file, subdirs);
  if (Array.isArray(doc.package)) return condaLock(doc.package, file, subdirs);
  throw new AirlockError('CONFIG_INVALID', `${file}: neither a pixi.lock (environments:) nor a conda-lock.yml (package:)`);
}

function pixiLock(doc: Obj, file: string, subdirs: readonly string[]) {
  const version = Number(doc.version);
  if (!(version >= 4 && version <= 6))
    throw new AirlockError('CONFIG_INVALID', `${file}: pixi.lock version ${String(doc.version)} is not supported (4 to 6 are)`);
  // The hashes live in the top-level package list, keyed by URL.
  const hashes = new Map<string, { sha256?: string; md5?: string }>();
  for (const p of Array.isArray(doc.packages) ? doc.packages : []) {
    if (!isObj(p)) continue;
    const url = str(p.conda) ?? (p.kind === 'conda' ? str(p.url) : undefined);
    if (url) hashes.set(url, hashesOf(p));
  }
  const packages = new Map<string, PinnedPackage>();
  const skipped = new Set<string>();
  for (const [env, e] of Object.entries(doc.environments as Obj)) {
    if (!isObj(e) || !isObj(e.packages)) continue;
    for (const [platform, list] of Object.entries(e.packages)) {
      if (!subdirs.includes(platform) || !Array.isArray(list)) continue;
      for (const entry of list) {
        if (!isObj(entry)) continue;
        const url = str(entry.conda);
        if (!url) {
          if (str(entry.pypi)) skipped.add(str(entry.pypi)!);
          continue;
        }
        if (!/^https?:\/\//.test(url)) {
          skipped.add(url);
          continue;
        }
        const where = `${file}: environment ${env}, ${platform}`;
        packages.set(url, { ...parsePackageUrl(url, where), ...(hashes.get(url) ?? {}), origin: where });
      }
    }
  }
  return { packages: [...packages.values()], skipped: [...skipped] };
}

function condaLock(list: unknown[], file: string, subdirs: readonly string[]) {
  const packages = new Map<string, PinnedPackage>();
  const skipped = new Set<string>();
  for (const p of list) {
    if (!isObj(p) || !subdirs.includes(str(p.platform) ?? '')) continue;
    const url = str(p.url);
    if (!url) continue;
    if (p.manager !== 'conda') {
      skipped.add(url);
      continue;
    }
    const where = `${file}: ${str(p.name) ?? url} (${str(p.platform)})`;
    packages.set(url, { ...parsePackageUrl(url, where), ...(isObj(p.hash) ? hashesOf(p.hash) : {}), origin: where });
  }
  return { packages: [...packages.values()], skipped: [...skipped] };
}
