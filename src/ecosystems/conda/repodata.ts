import { AirlockError } from '../../core/errors.js';

/** The fields of a repodata record airlock reads; the rest is carried as upstream wrote it. */
export interface CondaRecord {
  name: string;
  version: string;
  build: string;
  subdir?: string;
  sha256?: string;
  md5?: string;
  size?: number;
  [field: string]: unknown;
}

/** One subdir's `repodata.json`: file name → its record, parsed and as upstream's bytes, for both package formats. */
export type Repodata = Map<string, { record: CondaRecord; text: string }>;

const HEX64 = /^[0-9a-f]{64}$/;
const HEX32 = /^[0-9a-f]{32}$/;

/** A record is usable when it names itself consistently and its hashes are well formed. */
export function checkRecord(filename: string, r: unknown, label: string): CondaRecord {
  const bad = (why: string): never => {
    throw new AirlockError('UPSTREAM_INVALID', `${label}: the repodata record of ${filename} ${why}`);
  };
  if (!r || typeof r !== 'object' || Array.isArray(r)) return bad('is not an object');
  const rec = r as CondaRecord;
  for (const f of ['name', 'version', 'build'] as const) if (typeof rec[f] !== 'string' || !rec[f]) bad(`has no ${f}`);
  if (!filename.startsWith(`${rec.name}-${rec.version}-${rec.build}.`)) bad(`names ${rec.name}-${rec.version}-${rec.build}`);
  if (rec.sha256 !== undefined && (typeof rec.sha256 !== 'string' || !HEX64.test(rec.sha256))) bad('has a malformed sha256');
  if (rec.md5 !== undefined && (typeof rec.md5 !== 'string' || !HEX32.test(rec.md5))) bad('has a malformed md5');
  if (rec.sha256 === undefined && rec.md5 === undefined) bad('has neither sha256 nor md5');
  if (rec.size !== undefined && (typeof rec.size !== 'number' || !Number.isSafeInteger(rec.size) || rec.size < 0))
    bad('has a malformed size');
  return rec;
}

/**
 * An upstream `repodata.json`, `packages` (.tar.bz2) and `packages.conda` together. Records
 * are checked only when looked up (a channel holds far more than any solve uses); each keeps
 * its exact text, so the closed side serves the bytes upstream wrote.
 */
export function parseRepodata(text: string, label: string): Repodata {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new AirlockError('UPSTREAM_INVALID', `${label}: repodata.json is not JSON (${(e as Error).message})`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw new AirlockError('UPSTREAM_INVALID', `${label}: repodata.json is not an object`);
  const texts = recordTexts(text);
  const out: Repodata = new Map();
  for (const key of ['packages', 'packages.conda'] as const) {
    const section = (doc as Record<string, unknown>)[key];
    if (section === undefined) continue;
    if (!section || typeof section !== 'object' || Array.isArray(section))
      throw new AirlockError('UPSTREAM_INVALID', `${label}: repodata.json's ${key} is not an object`);
    for (const [filename, record] of Object.entries(section))
      out.set(filename, { record: record as CondaRecord, text: texts.get(`${key}\0${filename}`)! });
  }
  return out;
}

/**
 * The exact text of every value under the top-level `packages` and `packages.conda` keys of
 * a document JSON.parse has accepted, keyed `<section>\0<filename>`: a scan that only tracks
 * strings and nesting, so it cannot disagree with the parser on well-formed JSON.
 */
export function recordTexts(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const skipString = () => {
    i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  const key = (): string => {
    const start = i;
    skipString();
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = () => {
    if (text[i] === '"') return skipString();
    if (text[i] !== '{' && text[i] !== '[') {
      while (i < text.length && !',}] \t\n\r'.includes(text[i]!)) i++;
      return;
    }
    let depth = 0;
    do {
      if (text[i] === '"') {
        skipString();
        continue;
      }
      if (text[i] === '{' || text[i] === '[') depth++;
      else if (text[i] === '}' || text[i] === ']') depth--;
      i++;
    } while (depth > 0);
  };
  /** Walks one object, calling `each` with the key at the start of each value. */
  const object = (each: (key: string) => void) => {
    i++;
    ws();
    while (text[i] !== '}') {
      const name = key();
      ws();
      i++;
      ws();
      each(name);
      ws();
      if (text[i] === ',') i++;
      ws();
    }
    i++;
  };
  ws();
  object((section) => {
    if ((section !== 'packages' && section !== 'packages.conda') || text[i] !== '{') return value();
    object((filename) => {
      const start = i;
      value();
      out.set(`${section}\0${filename}`, text.slice(start, i));
    });
  });
  return out;
}

/** A record in a served repodata document: its file name and its JSON as upstream had it. */
export interface ServedRecord {
  filename: string;
  /** The record's JSON text as upstream wrote it. */
  json: string;
}

/**
 * `<subdir>/repodata.json` as conda, mamba, pixi and rattler read it: `info.subdir`,
 * `.tar.bz2` files under `packages`, `.conda` files under `packages.conda`, records spliced
 * in as stored.
 */
export function renderRepodata(subdir: string, records: readonly ServedRecord[]): Buffer {
  const sorted = [...records].sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
  const section = (rs: ServedRecord[]) => `{${rs.map((r) => `${JSON.stringify(r.filename)}:${r.json}`).join(',')}}`;
  const bz2 = sorted.filter((r) => r.filename.endsWith('.tar.bz2'));
  const conda = sorted.filter((r) => r.filename.endsWith('.conda'));
  return Buffer.from(
    `{"info":{"subdir":${JSON.stringify(subdir)}},"packages":${section(bz2)},"packages.conda":${section(conda)},"removed":[],"repodata_version":1}`,
  );
}

/**
 * The records `current_repodata.json` keeps: every build of each package's newest version.
 * Clients that cannot solve from it fall back to `repodata.json`, as they do upstream.
 */
export function newestOnly<T extends { name: string; version: string }>(
  records: readonly T[],
  compare: (a: string, b: string) => number,
): T[] {
  const newest = new Map<string, string>();
  for (const r of records) {
    const v = newest.get(r.name);
    if (v === undefined || compare(r.version, v) > 0) newest.set(r.name, r.version);
  }
  return records.filter((r) => newest.get(r.name) === r.version);
}

/** `channeldata.json`: each package's subdirs and newest version, and the channel's subdirs. */
export function renderChannelData(
  packages: readonly { name: string; version: string; subdir: string }[],
  subdirs: readonly string[],
  compare: (a: string, b: string) => number,
): Buffer {
  const byName = new Map<string, { subdirs: Set<string>; version: string }>();
  for (const p of packages) {
    const e = byName.get(p.name);
    if (!e) byName.set(p.name, { subdirs: new Set([p.subdir]), version: p.version });
    else {
      e.subdirs.add(p.subdir);
      if (compare(p.version, e.version) > 0) e.version = p.version;
    }
  }
  const out: Record<string, { subdirs: string[]; version: string }> = {};
  for (const name of [...byName.keys()].sort()) {
    const e = byName.get(name)!;
    out[name] = { subdirs: [...e.subdirs].sort(), version: e.version };
  }
  return Buffer.from(JSON.stringify({ channeldata_version: 1, packages: out, subdirs: [...subdirs].sort() }));
}
