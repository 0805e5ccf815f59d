import { YAMLError, parse as parseYaml } from 'yaml';
import { AirlockError } from '../../core/errors.js';
import type { PackageLocation } from './channel.js';

/** A package an explicit file or a lock names exactly, with the hash it expects. */
export interface PinnedPackage extends PackageLocation {
  sha256?: string;
  md5?: string;
  /** Which file named it, for messages. */
  origin: string;
}

/**
 * A YAML input (environment.yml, pixi.lock, conda-lock.yml), or CONFIG_INVALID naming
 * file:line and the parser's error code: its message quotes the text around the error.
 */
export function parseYamlInput(text: string, file: string): unknown {
  try {
    return parseYaml(text);
  } catch (e) {
    if (e instanceof YAMLError) throw new AirlockError('CONFIG_INVALID', `${file}:${e.linePos?.[0].line ?? 1}: not YAML (${e.code})`);
    // The yaml library refuses aliases that expand too far, or name no anchor, with a ReferenceError that quotes the alias.
    if (e instanceof ReferenceError)
      throw new AirlockError('CONFIG_INVALID', `${file}: not YAML (an alias names no anchor, or aliases expand too far)`);
    throw e;
  }
}
