import { type Document, LineCounter, isMap, isScalar, parseDocument } from 'yaml';
import type { z } from 'zod';
import { type Digest, digestOf } from '../core/digest.js';
import { AirlockError } from '../core/errors.js';
import { readConfigText } from '../core/fsutil.js';
import { type Target, targetSchema } from './target.js';

/** airlock.yaml after validation: the common keys, and each ecosystem's section as its schema made it. */
export interface Manifest {
  name: string;
  target: Target;
  sections: Record<string, unknown>;
  /** The digest of the text it was parsed from, which a lock records to notice later edits. */
  digest: Digest;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

class Located {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
  ) {}

  /** `file:LINE: field: message`, the line of the key the path names (or the deepest node it reaches). */
  error(path: (string | number)[], message: string): AirlockError {
    let line = 1;
    for (let n = path.length; n >= 0; n--) {
      const range = this.rangeOf(path.slice(0, n));
      if (range) {
        line = this.lines.linePos(range[0]).line;
        break;
      }
    }
    const field = path.length ? `${path.join('.')}: ` : '';
    return new AirlockError('CONFIG_INVALID', `${this.file}:${line}: ${field}${message}`);
  }

  /** A mapping entry is reported at its key, which may sit on a line above a block value. */
  private rangeOf(path: (string | number)[]): [number, number, number] | undefined {
    if (path.length === 0) return (this.doc.contents as { range?: [number, number, number] } | null)?.range;
    const parent = path.length === 1 ? this.doc.contents : this.doc.getIn(path.slice(0, -1), true);
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === path.at(-1));
      return (pair?.key as { range?: [number, number, number] } | undefined)?.range;
    }
    return (this.doc.getIn(path, true) as { range?: [number, number, number] } | undefined)?.range;
  }
}

/** Parses airlock.yaml; `sections` maps each ecosystem's key to its schema. */
export function parseManifest(text: string, file: string, sections: ReadonlyMap<string, z.ZodType>): Manifest {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const loc = new Located(doc, lines, file);
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = lines.linePos(yamlError.pos[0]).line;
    throw new AirlockError('CONFIG_INVALID', `${file}:${line}: YAML: ${yamlError.message.split('\n')[0]}`);
  }
  if (!isMap(doc.contents)) throw loc.error([], 'expected a mapping with name, target and ecosystem sections');
  const raw = doc.toJS() as Record<string, unknown>;
  const allowed = ['name', 'target', ...sections.keys()];
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) throw loc.error([key], `unknown key (allowed: ${allowed.join(', ')})`);
  }
  if (typeof raw.name !== 'string' || !NAME.test(raw.name)) {
    throw loc.error(raw.name === undefined ? [] : ['name'], raw.name === undefined ? 'name: required' : 'expected letters, digits, . _ - (at most 100)');
  }
  const target = targetSchema.safeParse(raw.target ?? {});
  if (!target.success) throw fromZod(loc, ['target'], target.error);
  const out: Record<string, unknown> = {};
  for (const [key, schema] of sections) {
    if (raw[key] === undefined) continue;
    const r = schema.safeParse(raw[key]);
    if (!r.success) throw fromZod(loc, [key], r.error);
    out[key] = r.data;
  }
  return { name: raw.name, target: target.data, sections: out, digest: digestOf(text) };
}

function fromZod(loc: Located, prefix: (string | number)[], err: z.ZodError): AirlockError {
  const issue = err.issues[0]!;
  const path = [...prefix, ...(issue.path as (string | number)[])];
  if (issue.code === 'unrecognized_keys') {
    return loc.error([...path, issue.keys[0]!], `unknown key`);
  }
  return loc.error(path, issue.message);
}

export async function loadManifest(path: string, sections: ReadonlyMap<string, z.ZodType>): Promise<Manifest> {
  return parseManifest(await readConfigText(path), path, sections);
}
