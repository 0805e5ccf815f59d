import { dirname, resolve } from 'node:path';
import { AirlockError } from '../../core/errors.js';
import { readConfigText } from '../../core/fsutil.js';
import { type Requirement, parseRequirement } from './requirement.js';
import { pushAll } from '../../core/arrays.js';

/** A requirement with where it was written, and the hashes pip's --hash pinned it to. */
export interface FileRequirement {
  requirement: Requirement;
  /** `requirements.txt:12` */
  origin: string;
  sha256: string[];
}

export interface RequirementsFile {
  requirements: FileRequirement[];
  constraints: FileRequirement[];
}

/** Logical lines: `\` joins the next line; comments start at `#` at the start or after whitespace. */
function logicalLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let buf = '';
  let start = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    if (buf === '') start = i + 1;
    const noComment = raw.replace(/(^|\s)#.*$/, '');
    if (/\\$/.test(noComment)) {
      buf += `${noComment.slice(0, -1)} `;
      return;
    }
    buf += noComment;
    if (buf.trim()) out.push({ line: start, text: buf.trim() });
    buf = '';
  });
  if (buf.trim()) out.push({ line: start, text: buf.trim() });
  return out;
}

/**
 * Errors quote at most this much of what failed: a file named by `-r` may be anything
 * (`-r /etc/passwd`), and its lines must not come back out in an error.
 */
const QUOTE = 16;
const clip = (token: string): string => (token.length > QUOTE ? `${token.slice(0, QUOTE)}…` : token);

/** A requirement parser's message without the line it quotes: the line number names it, and quoted fragments are cut short. */
function reasonOf(message: string, spec: string): string {
  const own = `"${spec}": `;
  const reason = message.startsWith(own) ? message.slice(own.length) : message;
  return reason.replace(/"([^"]*)"/g, (_m, q: string) => `"${clip(q)}"`);
}

const INCLUDE = /^(-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)$/;

/**
 * Reads a pip requirements file: requirements with markers and extras, `--hash` options,
 * `-r` and `-c` includes (relative to the including file). Options that would change where
 * or how pip installs (-e, -i, --find-links, ...) are refused: airlock.yaml says those.
 */
export async function readRequirementsFile(path: string, seen: Set<string> = new Set()): Promise<RequirementsFile> {
  const file = resolve(path);
  const out: RequirementsFile = { requirements: [], constraints: [] };
  if (seen.has(file)) return out;
  seen.add(file);
  const text = await readConfigText(file, path);
  for (const { line, text: l } of logicalLines(text)) {
    const origin = `${path}:${line}`;
    const include = INCLUDE.exec(l);
    if (include) {
      const target = resolve(dirname(file), include[2]!);
      const inner = await readRequirementsFile(target, seen);
      const isConstraint = include[1] === '-c' || include[1] === '--constraint';
      pushAll(out.constraints, inner.constraints);
      pushAll(isConstraint ? out.constraints : out.requirements, inner.requirements);
      continue;
    }
    if (l.startsWith('-')) {
      throw new AirlockError(
        'CONFIG_INVALID',
        `${origin}: option ${clip(l.split(/[\s=]/)[0]!)} is not supported here (use -r, -c and --hash; the index is set in airlock.yaml)`,
      );
    }
    const sha256: string[] = [];
    const spec = l.replace(/\s--hash[=\s]+(\S+)/g, (_m, h: string) => {
      const m = /^sha256:([0-9a-fA-F]{64})$/.exec(h);
      if (!m) throw new AirlockError('CONFIG_INVALID', `${origin}: --hash ${clip(h)} is not sha256:<64 hex>`);
      sha256.push(m[1]!.toLowerCase());
      return '';
    });
    if (/\s--?\w/.test(spec)) throw new AirlockError('CONFIG_INVALID', `${origin}: only --hash may follow a requirement`);
    try {
      out.requirements.push({ requirement: parseRequirement(spec), origin, sha256 });
    } catch (e) {
      throw new AirlockError('CONFIG_INVALID', `${origin}: ${reasonOf((e as Error).message, spec)}`);
    }
  }
  return out;
}
