import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { AirlockError, describeError } from '../../core/errors.js';
import { type LockMarkerSets, type Marker, parseMarker } from './markers.js';
import { normalizeName } from './names.js';

/** One file a lockfile pins; the URL may be absent (poetry.lock names files only). */
export interface PinnedFile {
  filename: string;
  url?: string;
  sha256?: string;
  size?: number;
}

/** A project version a lockfile pins, with the marker (if the format has one) saying where it applies. */
export interface PinnedDist {
  name: string;
  version: string;
  marker?: Marker;
  /** Wheels. */
  files: PinnedFile[];
  sdist?: PinnedFile;
  /** What PEP 751 markers' `extras` and `dependency_groups` hold (pylock.toml only). */
  markerSets?: LockMarkerSets;
  /** `uv.lock: requests 2.32.3`, for messages. */
  origin: string;
}

type Table = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const tables = (v: unknown): Table[] => (Array.isArray(v) ? v.filter((x): x is Table => !!x && typeof x === 'object') : []);

function sha256Of(hash: unknown): string | undefined {
  const m = /^sha256:([0-9a-fA-F]{64})$/.exec(str(hash) ?? '');
  return m ? m[1]!.toLowerCase() : undefined;
}

function fileFromUrl(url: string): string {
  return decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
}

function markerOf(text: unknown, where: string): Marker | undefined {
  const m = str(text);
  if (!m) return undefined;
  try {
    return parseMarker(m);
  } catch (e) {
    throw new AirlockError('CONFIG_INVALID', `${where}: ${(e as Error).message}`);
  }
}

function pinned(filename: string, url: string | undefined, sha256: string | undefined, size: number | undefined): PinnedFile {
  return { filename, ...(url ? { url } : {}), ...(sha256 ? { sha256 } : {}), ...(size !== undefined ? { size } : {}) };
}

/** A pinned version, or none when it has no file to fetch (the project's own entry in uv.lock). */
function dist(
  name: string,
  version: string,
  files: PinnedFile[],
  sdist: PinnedFile | undefined,
  origin: string,
  marker?: Marker,
): PinnedDist[] {
  if (files.length === 0 && !sdist) return [];
  return [{ name: normalizeName(name), version, files, origin, ...(sdist ? { sdist } : {}), ...(marker ? { marker } : {}) }];
}

/** uv.lock: `[[package]]` with `wheels = [{ url, hash, size }]` and `sdist = { url, hash, size }`; the project itself has neither. */
function fromUv(doc: Table, file: string): PinnedDist[] {
  return tables(doc.package).flatMap((p) => {
    const name = str(p.name);
    const version = str(p.version);
    if (!name || !version) return [];
    const files = tables(p.wheels).flatMap((w) => {
      const url = str(w.url);
      if (!url) return [];
      return [pinned(fileFromUrl(url), url, sha256Of(w.hash), num(w.size))];
    });
    const sd = p.sdist as Table | undefined;
    const sdistUrl = str(sd?.url);
    const sdist = sdistUrl ? pinned(fileFromUrl(sdistUrl), sdistUrl, sha256Of(sd?.hash), num(sd?.size)) : undefined;
    return dist(name, version, files, sdist, `${file}: ${name} ${version}`);
  });
}

/** PEP 751 pylock.toml: `[[packages]]` with a `marker`, `[[packages.wheels]]` and `[packages.sdist]`. */
function fromPylock(doc: Table, file: string): PinnedDist[] {
  // Installed as locked: no extras asked for, the lock's default groups.
  const groups = Array.isArray(doc['default-groups']) ? doc['default-groups'].filter((g): g is string => typeof g === 'string') : [];
  const markerSets: LockMarkerSets = { extras: [], dependency_groups: groups };
  return tables(doc.packages).flatMap((p) => {
    const name = str(p.name);
    const version = str(p.version);
    if (!name || !version) return [];
    const origin = `${file}: ${name} ${version}`;
    const fileOf = (w: Table | undefined): PinnedFile | undefined => {
      const url = str(w?.url);
      const filename = str(w?.name) ?? (url ? fileFromUrl(url) : undefined);
      if (!filename || !url) return undefined;
      return pinned(filename, url, str((w?.hashes as Table | undefined)?.sha256)?.toLowerCase(), num(w?.size));
    };
    const files = tables(p.wheels).flatMap((w) => fileOf(w) ?? []);
    return dist(name, version, files, fileOf(p.sdist as Table | undefined), origin, markerOf(p.marker, origin)).map((d) => ({
      ...d,
      markerSets,
    }));
  });
}

/** poetry.lock: `[[package]]` with `files = [{ file, hash }]`; URLs come from the index. */
function fromPoetry(doc: Table, file: string): PinnedDist[] {
  return tables(doc.package).flatMap((p) => {
    const name = str(p.name);
    const version = str(p.version);
    if (!name || !version) return [];
    const origin = `${file}: ${name} ${version}`;
    const all = tables(p.files).flatMap((f) => {
      const filename = str(f.file);
      return filename ? [pinned(filename, undefined, sha256Of(f.hash), undefined)] : [];
    });
    const sdist = all.find((f) => /\.(tar\.gz|zip)$/.test(f.filename));
    return dist(
      name,
      version,
      all.filter((f) => f.filename.endsWith('.whl')),
      sdist,
      origin,
      markerOf(p.markers, origin),
    );
  });
}

/** Reads uv.lock, pylock.toml (or pylock.NAME.toml) or poetry.lock as exact pins. */
export async function readPythonLockfile(path: string): Promise<PinnedDist[]> {
  const name = basename(path);
  const kind =
    name === 'uv.lock' ? fromUv : /^pylock(\.[^.]+)?\.toml$/.test(name) ? fromPylock : name === 'poetry.lock' ? fromPoetry : undefined;
  if (!kind) throw new AirlockError('CONFIG_INVALID', `${path}: not a lockfile airlock reads (uv.lock, pylock.toml, poetry.lock)`);
  let doc: Table;
  try {
    doc = parseToml(await readFile(path, 'utf8')) as Table;
  } catch (e) {
    throw new AirlockError('CONFIG_INVALID', `${path}: ${describeError(e).split('\n')[0]}`);
  }
  return kind(doc, name);
}
