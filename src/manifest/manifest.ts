import { stat } from 'node:fs/promises';
import { type Alias, type Document, LineCounter, isMap, isScalar, parseDocument, visit } from 'yaml';
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

/** Far beyond any real manifest; a bigger file is a mistake or an attack, and is refused before it is read. */
const MAX_MANIFEST_BYTES = 16 << 20;
/**
 * How many alias expansions toJS allows: aliases that expand exponentially (billion laughs)
 * reach it quickly, while a manifest sharing a few anchors stays far below.
 */
const MAX_ALIAS_COUNT = 100;
/** How much of any value an error quotes: enough to recognise it, never a whole pasted blob. */
const QUOTE = 80;

const clip = (s: string): string => (s.length > QUOTE ? `${s.slice(0, QUOTE)}…` : s);
/**
 * The YAML parser holds ~3 KB per node with its source positions: 600,000 entries cost 1.8 GB
 * before any check could run, and a million exhausted the heap. Lines plus commas bound the
 * nodes from above (flow lists put many on one line), cheaply, before parsing.
 */
const MAX_MANIFEST_ITEMS = 400_000;

function roughItemCount(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  for (let i = text.indexOf(','); i >= 0; i = text.indexOf(',', i + 1)) n++;
  return n;
}

const tooBig = (file: string, bytes: number) =>
  new AirlockError('CONFIG_INVALID', `${file}: ${bytes} bytes, more than the 16 MiB a manifest may be`);

class Located {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
  ) {}

  /** `file:LINE: field: message`, the line of the key the path names (or the deepest node it reaches). */
  error(path: (string | number)[], message: string): AirlockError {
    return new AirlockError(
      'CONFIG_INVALID',
      `${this.file}:${this.lineOf(path)}: ${path.length ? `${path.map((p) => clip(String(p))).join('.')}: ` : ''}${message}`,
    );
  }

  /** The line of the first alias (`*name`) the document has that `pick` chooses, else 1. */
  aliasLine(pick: (alias: Alias) => boolean): number {
    let line = 1;
    visit(this.doc, {
      Alias: (_key, node) => {
        if (!pick(node)) return undefined;
        line = this.lines.linePos(node.range?.[0] ?? 0).line;
        return visit.BREAK;
      },
    });
    return line;
  }

  private lineOf(path: (string | number)[]): number {
    let line = 1;
    for (let n = path.length; n >= 0; n--) {
      const range = this.rangeOf(path.slice(0, n));
      if (range) {
        line = this.lines.linePos(range[0]).line;
        break;
      }
    }
    return line;
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
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_MANIFEST_BYTES) throw tooBig(file, bytes);
  const items = roughItemCount(text);
  if (items > MAX_MANIFEST_ITEMS) {
    throw new AirlockError(
      'CONFIG_INVALID',
      `${file}: about ${items} entries (lines and list items), more than the ${MAX_MANIFEST_ITEMS} a manifest may hold`,
      {
        hint: 'long lists belong in the files a manifest names: requirement files, package-locks, conda explicit files',
      },
    );
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const loc = new Located(doc, lines, file);
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = lines.linePos(yamlError.pos[0]).line;
    throw new AirlockError('CONFIG_INVALID', `${file}:${line}: YAML: ${clip(yamlError.message.split('\n')[0]!)}`);
  }
  if (!isMap(doc.contents)) throw loc.error([], 'expected a mapping with name, target and ecosystem sections');
  const raw = toJS(doc, loc, file);
  const allowed = ['name', 'target', ...sections.keys()];
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) throw loc.error([key], `unknown key (allowed: ${allowed.join(', ')})`);
  }
  if (typeof raw.name !== 'string' || !NAME.test(raw.name)) {
    throw loc.error(
      raw.name === undefined ? [] : ['name'],
      raw.name === undefined ? 'name: required' : 'expected letters, digits, . _ - (at most 100)',
    );
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

/**
 * The document as plain values. The yaml library refuses aliases that expand too far and
 * aliases to anchors not (yet) defined by throwing; both are the file's fault, so they are
 * reported at the line of the alias.
 */
function toJS(doc: Document, loc: Located, file: string): Record<string, unknown> {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as Record<string, unknown>;
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    if (/unresolved alias/i.test(e.message))
      throw new AirlockError(
        'CONFIG_INVALID',
        `${file}:${loc.aliasLine((a) => a.resolve(doc) === undefined)}: YAML: an alias names an anchor not defined before it`,
      );
    throw new AirlockError(
      'CONFIG_INVALID',
      `${file}:${loc.aliasLine(() => true)}: YAML: aliases expand to too many nodes (more than ${MAX_ALIAS_COUNT}: anchors nested too deep, or a resource exhaustion attack)`,
    );
  }
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
  const size = (await stat(path).catch(() => undefined))?.size ?? 0;
  if (size > MAX_MANIFEST_BYTES) throw tooBig(path, size);
  return parseManifest(await readConfigText(path), path, sections);
}
