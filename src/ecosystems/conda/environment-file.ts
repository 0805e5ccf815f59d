import { AirlockError } from '../../core/errors.js';
import { parseYamlInput } from './inputs.js';
import { pushAll } from '../../core/arrays.js';

/** What a conda environment.yml asks for: its channels and its conda dependencies. */
export interface EnvironmentFile {
  channels: string[];
  specs: string[];
  /** `pip:` dependencies, which are PyPI's and not solved here. */
  pip: string[];
}

/** conda's `defaults` on Linux, macOS and Windows alike (msys2 aside). */
export const DEFAULTS = ['https://repo.anaconda.com/pkgs/main', 'https://repo.anaconda.com/pkgs/r'];

export function parseEnvironmentFile(text: string, file: string): EnvironmentFile {
  const doc = parseYamlInput(text, file);
  const d = (doc ?? {}) as { channels?: unknown; dependencies?: unknown };
  if (typeof doc !== 'object' || Array.isArray(doc) || !Array.isArray(d.dependencies)) throw new AirlockError('CONFIG_INVALID', `${file}: not a conda environment file (no dependencies: list)`);
  const channels: string[] = [];
  for (const c of Array.isArray(d.channels) ? d.channels : []) {
    if (typeof c !== 'string') throw new AirlockError('CONFIG_INVALID', `${file}: channels: ${JSON.stringify(c)} is not a channel name or URL`);
    if (c === 'nodefaults') continue;
    pushAll(channels, c === 'defaults' ? DEFAULTS : [c]);
  }
  const specs: string[] = [];
  const pip: string[] = [];
  for (const dep of d.dependencies) {
    if (typeof dep === 'string') specs.push(dep);
    else if (dep && typeof dep === 'object' && Array.isArray((dep as { pip?: unknown }).pip)) pushAll(pip, (dep as { pip: unknown[] }).pip.map(String));
    else throw new AirlockError('CONFIG_INVALID', `${file}: dependencies: ${JSON.stringify(dep)} is neither a match spec nor a pip: list`);
  }
  return { channels, specs, pip };
}
