import { parse as parseYaml } from 'yaml';
import { AirlockError } from '../../core/errors.js';
import type { PackageLocation } from './channel.js';

/** A package an explicit file or a lock names exactly, with the hash it expects. */
export interface PinnedPackage extends PackageLocation {
  sha256?: string;
  md5?: string;
  /** Which file named it, for messages. */
  origin: string;
}

/** A YAML input (environment.yml, pixi.lock, conda-lock.yml), or CONFIG_INVALID naming the file. */
export function parseYamlInput(text: string, file: string): unknown {
  try {
    return parseYaml(text);
  } catch (e) {
    throw new AirlockError('CONFIG_INVALID', `${file}: not YAML (${(e as Error).message.split('\n')[0]})`);
  }
}
