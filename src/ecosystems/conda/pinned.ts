import { AirlockError } from '../../core/errors.js';
import type { PackageLocation } from './channel.js';

/** A package an explicit file or a lock names exactly, with the hash it expects. */
export interface PinnedPackage extends PackageLocation {
  sha256?: string;
  md5?: string;
  /** Which file named it, for messages. */
  origin: string;
}

/** A hash as explicit files write it after `#`: `sha256:<hex>`, 64 hex (sha256) or 32 hex (md5). */
export function parseHashFragment(fragment: string, where: string): { sha256?: string; md5?: string } {
  const h = fragment.replace(/^sha256:/, '').toLowerCase();
  if (/^[0-9a-f]{64}$/.test(h)) return { sha256: h };
  if (/^[0-9a-f]{32}$/.test(h) && !fragment.startsWith('sha256:')) return { md5: h };
  throw new AirlockError('CONFIG_INVALID', `${where}: #${fragment} is neither a sha256 nor an md5`);
}
