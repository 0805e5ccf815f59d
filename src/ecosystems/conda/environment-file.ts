import { LineCounter, parseDocument } from 'yaml';
import { AirlockError } from '../../core/errors.js';
import { pushAll } from '../../core/arrays.js';
import { channelCredentialProblem } from './channel.js';
import { parseYamlInput } from './inputs.js';

/** What a conda environment.yml asks for: its channels and its conda dependencies. */
export interface EnvironmentFile {
  channels: string[];
  specs: string[];
  /** `pip:` dependencies, which are PyPI's and not solved here. */
  pip: string[];
}

/** conda's `defaults` on Linux, macOS and Windows alike (msys2 aside). */
export const DEFAULTS = ['https://repo.anaconda.com/pkgs/main', 'https://repo.anaconda.com/pkgs/r'];

/** What a YAML value is, for messages that must not quote it. */
function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'a list';
  if (v === null || v === undefined) return 'empty';
  return typeof v === 'object' ? 'a mapping' : `a ${typeof v}`;
}

/** `file:LINE` of the node at `path`, read again only when there is an error to report. */
function at(text: string, file: string, path: (string | number)[]): string {
  const lines = new LineCounter();
  const node = parseDocument(text, { lineCounter: lines }).getIn(path, true) as { range?: [number, number, number] } | undefined;
  return node?.range ? `${file}:${lines.linePos(node.range[0]).line}` : file;
}

/**
 * An environment file may be anything a user was handed, so errors name file:line, the
 * item and what kind of value it is, and never quote it.
 */
export function parseEnvironmentFile(text: string, file: string): EnvironmentFile {
  const doc = parseYamlInput(text, file);
  const d = (doc ?? {}) as { channels?: unknown; dependencies?: unknown };
  if (typeof doc !== 'object' || Array.isArray(doc) || !Array.isArray(d.dependencies))
    throw new AirlockError('CONFIG_INVALID', `${file}: not a conda environment file (no dependencies: list)`);
  const channels: string[] = [];
  for (const [i, c] of (Array.isArray(d.channels) ? d.channels : []).entries()) {
    if (typeof c !== 'string')
      throw new AirlockError(
        'CONFIG_INVALID',
        `${at(text, file, ['channels', i])}: channels: item ${i + 1} is ${kindOf(c)}, not a channel name or URL`,
      );
    const bad = channelCredentialProblem(c);
    if (bad) throw new AirlockError('CONFIG_INVALID', `${at(text, file, ['channels', i])}: channels: item ${i + 1} ${bad}`);
    if (c === 'nodefaults') continue;
    pushAll(channels, c === 'defaults' ? DEFAULTS : [c]);
  }
  const specs: string[] = [];
  const pip: string[] = [];
  for (const [i, dep] of (d.dependencies as unknown[]).entries()) {
    if (typeof dep === 'string') specs.push(dep);
    else if (dep && typeof dep === 'object' && Array.isArray((dep as { pip?: unknown }).pip))
      pushAll(pip, (dep as { pip: unknown[] }).pip.map(String));
    else
      throw new AirlockError(
        'CONFIG_INVALID',
        `${at(text, file, ['dependencies', i])}: dependencies: item ${i + 1} is ${kindOf(dep)}, neither a match spec nor a pip: list`,
      );
  }
  return { channels, specs, pip };
}
