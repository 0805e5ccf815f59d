import { AirlockError, quoteShort } from '../../core/errors.js';
import { parsePackageUrl } from './channel.js';
import type { PinnedPackage } from './inputs.js';

/** A hash as explicit files write it after `#`: `sha256:<hex>`, 64 hex (sha256) or 32 hex (md5). */
function parseHashFragment(fragment: string, where: string): { sha256?: string; md5?: string } {
  const h = fragment.replace(/^sha256:/, '').toLowerCase();
  if (/^[0-9a-f]{64}$/.test(h)) return { sha256: h };
  if (/^[0-9a-f]{32}$/.test(h) && !fragment.startsWith('sha256:')) return { md5: h };
  throw new AirlockError('CONFIG_INVALID', `${where}: the hash after # (${quoteShort(fragment, 16)}) is neither a sha256 nor an md5`);
}

/**
 * A `conda list --explicit [--md5]` file (also `conda-lock render --kind explicit`): comments,
 * an `@EXPLICIT` line, then one package URL a line with an optional `#<md5|sha256>`.
 */
export function parseExplicit(text: string, file: string): PinnedPackage[] {
  const lines = text.split(/\r?\n/);
  const at = lines.findIndex((l) => l.trim() === '@EXPLICIT');
  if (at < 0) throw new AirlockError('CONFIG_INVALID', `${file}: no @EXPLICIT line: not a conda explicit spec file`);
  const out: PinnedPackage[] = [];
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (i <= at || !line || line.startsWith('#')) return;
    const where = `${file}:${i + 1}`;
    const hash = line.includes('#') ? parseHashFragment(line.slice(line.indexOf('#') + 1), where) : {};
    out.push({ ...parsePackageUrl(line, where), ...hash, origin: where });
  });
  return out;
}
