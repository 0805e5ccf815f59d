import { rm } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { rcompare, valid } from '@renovatebot/pep440';
import { type BlobInfo, readBlobBytes } from '../../core/blobstore.js';
import { type Digest, parseDigest } from '../../core/digest.js';
import { AirlockError } from '../../core/errors.js';
import { tempPathFor } from '../../core/fsutil.js';
import type { HttpClient } from '../../core/http.js';
import type { LockedArtifact } from '../../manifest/lockfile.js';
import type { ResolveContext } from '../ecosystem.js';
import { parseCoreMetadata } from './core-metadata.js';
import { parseDistFilename } from './filename.js';
import { type FileCheck, type Misfit, fileCheck, listMisfits } from './fit.js';
import { normalizeName } from './names.js';
import { type IndexFile, IndexClient } from './index-client.js';
import type { PypiFileMetadata } from './record.js';
import { type Requirement, parseRequirement } from './requirement.js';
import { type Candidate, type Pinned, type Provider, ResolutionError, type Unfit, resolveRequirements } from './solver.js';
import { type PinnedDist, type PinnedFile, readPythonLockfile } from './lockfiles.js';
import { type Marker, type MarkerEnvironment, MarkerError, evaluateMarker } from './markers.js';
import { readRequirementsFile } from './requirements-file.js';
import { readSdistMetadata, readZipSdistMetadata } from './sdist-metadata.js';
import { contains } from './specifiers.js';
import type { PypiSection } from './schema.js';
import { type PythonTarget, describeTarget, markerEnvironment, supportedTags, wheelRank } from './tags.js';
import { type RangeReader, ZIP_TAIL, readWheelMetadata } from './wheel-metadata.js';
import { pushAll } from '../../core/arrays.js';

/** Core metadata of one file, fetched once per run whatever the number of targets. */
interface Fetched {
  requires: Requirement[];
  /** Provides-Extra, normalised. */
  extras: string[];
  /** The `.metadata` bytes as the index served them (PEP 658), when it did. */
  metadataBlob?: BlobInfo;
  /** The distribution itself, when it had to be downloaded to read its metadata. */
  fileBlob?: BlobInfo;
}

class IndexProvider implements Provider<IndexFile> {
  private readonly ranks: Map<string, number>;
  private readonly check: FileCheck;

  constructor(
    private readonly index: IndexClient,
    target: PythonTarget,
    private readonly metadata: (f: IndexFile, c: Candidate<IndexFile>) => Promise<Fetched>,
    /** `--hash` pins from requirements files: only these files may be chosen for the project. */
    private readonly hashes: ReadonlyMap<string, ReadonlySet<string>>,
    sdists: PypiSection['sdists'],
  ) {
    this.ranks = new Map(supportedTags(target).map((t, i) => [t, i]));
    this.check = fileCheck(target, sdists);
  }

  /** The project's distribution files, each with its version. */
  private async files(name: string): Promise<{ f: IndexFile; version: string; kind: 'wheel' | 'sdist' }[]> {
    return (await this.index.files(name)).flatMap((f) => {
      const dist = parseDistFilename(f.filename);
      return dist && dist.name === name && valid(dist.version) ? [{ f, version: dist.version, kind: dist.kind }] : [];
    });
  }

  /**
   * Newest first; per version the wheel with the best tag for this target, or (unless
   * sdists are `never`) its sdist when no wheel fits, ranked after every wheel.
   */
  async candidates(name: string): Promise<Candidate<IndexFile>[]> {
    const best = new Map<string, { file: IndexFile; rank: number }>();
    for (const { f, version, kind } of await this.files(name)) {
      if (!this.check.fits(f, this.hashes.get(name))) continue;
      const rank = kind === 'wheel' ? wheelRank(f.filename, this.ranks)! : this.ranks.size + sdistRank(f.filename);
      const prior = best.get(version);
      if (!prior || rank < prior.rank) best.set(version, { file: f, rank });
    }
    return [...best.entries()]
      .sort(([a], [b]) => rcompare(a, b))
      .map(([version, { file }]) => ({ name, version, file, yanked: file.yanked !== false }));
  }

  async unfit(name: string, wanted: (version: string) => boolean): Promise<Unfit | undefined> {
    const files = await this.files(name);
    if (files.length === 0) return { versions: 0, why: 'the index lists no files of it' };
    const misfits = new Map<string, Misfit[]>();
    const fitting = new Set<string>();
    for (const { f, version } of files) {
      const misfit = this.check.why(f, this.hashes.get(name));
      if (misfit) misfits.set(version, [...(misfits.get(version) ?? []), misfit]);
      else fitting.add(version);
    }
    const unfit = [...misfits.keys()].filter((v) => !fitting.has(v)).sort(rcompare);
    const version = unfit.find(wanted);
    return version === undefined ? undefined : { version, versions: unfit.length, why: listMisfits(misfits.get(version)!) };
  }

  async dependencies(c: Candidate<IndexFile>): Promise<{ requires: Requirement[]; extras: string[] }> {
    return this.metadata(c.file, c);
  }
}

/** PEP 625's `.tar.gz` before a legacy `.zip` of the same version. */
function sdistRank(filename: string): number {
  return filename.endsWith('.tar.gz') ? 0 : 1;
}

function targetsOf(ctx: ResolveContext): PythonTarget[] {
  if (ctx.target.python.length === 0) {
    throw new AirlockError('CONFIG_INVALID', 'pypi: target.python must list the closed side\'s Python versions, e.g. python: ["3.12"]');
  }
  return ctx.target.platforms.flatMap((platform) =>
    ctx.target.python.map((python) => ({ platform, python, ...(ctx.target.libc ? { libc: ctx.target.libc } : {}) })),
  );
}

/**
 * Resolves `requirements` for every target (platform × Python) and pins the union of the
 * chosen wheels. Project pages and metadata are fetched once and shared by all targets.
 */
export async function resolvePypi(section: PypiSection, ctx: ResolveContext): Promise<LockedArtifact[]> {
  const index = new IndexClient(ctx.http, section.index);
  const roots: (Requirement & { from: string })[] = section.requirements.map((r) => ({ ...parseRequirement(r), from: 'airlock.yaml' }));
  const constraints: (Requirement & { from: string })[] = [];
  const hashes = new Map<string, Set<string>>();
  for (const f of section.requirementFiles) {
    const parsed = await readRequirementsFile(resolvePath(ctx.manifestDir, f));
    for (const r of parsed.requirements) {
      roots.push({ ...r.requirement, from: r.origin });
      if (r.sha256.length) hashes.set(r.requirement.name, new Set([...(hashes.get(r.requirement.name) ?? []), ...r.sha256]));
    }
    pushAll(
      constraints,
      parsed.constraints.map((c) => ({ ...c.requirement, from: c.origin })),
    );
  }
  const fetched = new Map<string, Promise<Fetched>>();
  const download = async (url: string, label: string, digest?: string): Promise<BlobInfo> => {
    const dest = tempPathFor(join(await ctx.store.blobs.tempDir(), 'x'));
    try {
      const blob = await ctx.http.download({ url, dest, label, ...(digest ? { expectedDigest: parseDigest(digest, label) } : {}) });
      await ctx.store.blobs.adopt(dest, blob);
      return blob;
    } finally {
      await rm(dest, { force: true });
    }
  };
  const blobReader =
    (b: BlobInfo): RangeReader =>
    (start, end) =>
      readBlobBytes(ctx.store.blobs, b.digest, { start, end });
  const metadataOf = (f: IndexFile, c: Candidate<IndexFile>): Promise<Fetched> => {
    let p = fetched.get(f.url);
    if (!p) {
      p = (async (): Promise<Fetched> => {
        const label = `pypi:${f.filename}`;
        let text: Buffer;
        let metadataBlob: BlobInfo | undefined;
        let fileBlob: BlobInfo | undefined;
        if (f.coreMetadata) {
          metadataBlob = await download(`${f.url}.metadata`, `${label}.metadata`, f.coreMetadata.sha256);
          text = await readBlobBytes(ctx.store.blobs, metadataBlob.digest);
        } else if (parseDistFilename(f.filename)?.kind === 'sdist') {
          fileBlob = await download(f.url, label, f.sha256);
          text = f.filename.endsWith('.zip')
            ? await readZipSdistMetadata(blobReader(fileBlob), fileBlob.size, label)
            : await readSdistMetadata(await ctx.store.blobs.open(fileBlob.digest), label);
        } else {
          const remote = await metadataByRanges(ctx.http, f.url, f.size, label);
          if (remote) text = remote;
          else {
            // No PEP 658 file and no ranges: the wheel comes whole, into the store where fetch wants it anyway.
            fileBlob = await download(f.url, label, f.sha256);
            text = await readWheelMetadata(blobReader(fileBlob), fileBlob.size, label);
          }
        }
        const meta = parseCoreMetadata(text.toString('utf8'));
        if (!meta) throw new AirlockError('UPSTREAM_INVALID', `${label}: its METADATA has no Name or Version`);
        if (meta.version !== c.version && !contains(meta.version, `==${c.version}`, { prereleases: true })) {
          throw new AirlockError('UPSTREAM_INVALID', `${label}: METADATA says version ${meta.version}`);
        }
        const { requires, extras } = dependencyFields(text.toString('utf8'), label);
        return { requires, extras, ...(metadataBlob ? { metadataBlob } : {}), ...(fileBlob ? { fileBlob } : {}) };
      })();
      fetched.set(f.url, p);
    }
    return p;
  };

  const pinned: PinnedDist[] = [];
  for (const f of section.lockfiles) pushAll(pinned, await readPythonLockfile(resolvePath(ctx.manifestDir, f)));

  const chosen: Chosen = new Map();
  for (const target of targetsOf(ctx)) {
    const label = `${target.platform} python ${target.python}${target.libc ? ` ${target.libc}` : ''}`;
    let pins = new Map<string, Pinned<IndexFile>>();
    if (roots.length > 0) {
      try {
        pins = await resolveRequirements(
          roots,
          markerEnvironment(target),
          new IndexProvider(index, target, metadataOf, hashes, section.sdists),
          constraints,
        );
      } catch (e) {
        // The effective libc too, default or not: a wheel's fit often turns on it.
        if (e instanceof ResolutionError) throw new AirlockError('CONFLICT', `pypi (${describeTarget(target)}): ${e.message}`);
        throw e;
      }
    }
    for (const { candidate: c, requiredBy, asked, passedOver } of pins.values()) {
      const entry = chosen.get(c.file.filename) ?? chosenEntry(c.file, c.name, c.version);
      entry.targets.push(label);
      for (const r of requiredBy) entry.requiredBy.add(r);
      for (const r of asked ?? []) entry.asked.add(r);
      for (const r of passedOver ?? []) entry.passedOver.add(r);
      chosen.set(c.file.filename, entry);
    }
    ctx.reporter.info(`pypi: ${pins.size} package(s) for ${label}`);
    for (const d of pinned) {
      for (const file of await pinnedFiles(d, target, label, index, ctx, section.sdists)) {
        const entry = chosen.get(file.filename) ?? chosenEntry(file, d.name, d.version);
        entry.targets.push(label);
        entry.requiredBy.add(d.origin);
        entry.asked.add(`${d.name}==${d.version} pinned by ${d.origin.split(':')[0]}`);
        chosen.set(file.filename, entry);
      }
    }
  }

  if (section.sdists === 'always') await addSdists(chosen, index, ctx);

  const out: LockedArtifact[] = [];
  for (const { file, name, version, targets, requiredBy, asked, passedOver } of chosen.values()) {
    const label = `pypi:${file.filename}`;
    const fetchedMeta = await fetched.get(file.url);
    let wheel: BlobInfo | undefined = fetchedMeta?.fileBlob;
    if (!wheel && file.sha256 && file.size !== undefined) wheel = { digest: `sha256:${file.sha256}` as Digest, size: file.size };
    // An index that gives no size (PEP 503 HTML) or no hash: download to pin what it serves.
    wheel ??= await download(file.url, label, file.sha256);
    const meta = fetchedMeta?.metadataBlob;
    const metadata: PypiFileMetadata & Explanation = {
      filename: file.filename,
      yanked: file.yanked,
      targets,
      requiredBy: [...requiredBy].sort(),
      asked: [...asked].sort(),
      passedOver: [...passedOver],
      ...(file.requiresPython ? { requiresPython: file.requiresPython } : {}),
      ...(file.uploadTime ? { uploadTime: file.uploadTime } : {}),
      ...(meta ? { coreMetadata: meta } : {}),
    };
    out.push({
      ecosystem: 'pypi',
      key: file.filename,
      name,
      version,
      digest: wheel.digest,
      size: wheel.size,
      source: file.url,
      metadata: metadata as unknown as Record<string, unknown>,
      blobs: [{ ...wheel, url: file.url }, ...(meta ? [{ ...meta, url: `${file.url}.metadata` }] : [])],
    });
  }
  return out;
}

/** What `airlock lock --explain` shows of a file, over all targets. */
interface Explanation {
  targets: string[];
  /** Who asked for the project: `airlock.yaml`, `app==1.0`, a lockfile. */
  requiredBy: string[];
  /** Each requirement on it, as `lib>=1.0 from app==1.0`. */
  asked: string[];
  /** Newer versions not chosen, with the reason. */
  passedOver: string[];
}

interface ChosenFile {
  file: IndexFile;
  name: string;
  version: string;
  targets: string[];
  requiredBy: Set<string>;
  asked: Set<string>;
  passedOver: Set<string>;
}

type Chosen = Map<string, ChosenFile>;

function chosenEntry(file: IndexFile, name: string, version: string): ChosenFile {
  return { file, name, version, targets: [], requiredBy: new Set(), asked: new Set(), passedOver: new Set() };
}

/** `sdists: always`: each chosen version travels with its source too, for rebuilding on the far side. */
async function addSdists(chosen: Chosen, index: IndexClient, ctx: ResolveContext): Promise<void> {
  const have = new Set(
    [...chosen.values()].filter((e) => parseDistFilename(e.file.filename)?.kind === 'sdist').map((e) => `${e.name} ${e.version}`),
  );
  for (const e of [...chosen.values()]) {
    if (have.has(`${e.name} ${e.version}`)) continue;
    const sdist = (await index.files(e.name)).find((f) => {
      const d = parseDistFilename(f.filename);
      return d?.kind === 'sdist' && d.version === e.version;
    });
    if (!sdist) {
      ctx.reporter.info(`pypi: ${e.name} ${e.version} has no sdist on the index`);
      continue;
    }
    const entry = chosen.get(sdist.filename) ?? chosenEntry(sdist, e.name, e.version);
    for (const t of e.targets) if (!entry.targets.includes(t)) entry.targets.push(t);
    entry.requiredBy.add('sdists: always');
    chosen.set(sdist.filename, entry);
  }
}

/**
 * The files a lockfile pins for one target: its best-ranked wheel there, and its sdist as
 * `sdists` says (beside the wheel with `always`, instead of a missing wheel with `fallback`).
 * A package whose marker says it belongs on the target but has nothing for it is an error;
 * one without a marker (uv.lock spans every platform) is skipped with a note.
 */
async function pinnedFiles(
  d: PinnedDist,
  target: PythonTarget,
  label: string,
  index: IndexClient,
  ctx: ResolveContext,
  sdists: PypiSection['sdists'],
): Promise<IndexFile[]> {
  if (d.marker && !markerHolds(d, d.marker, markerEnvironment(target))) return [];
  const ranks = new Map(supportedTags(target).map((t, i) => [t, i]));
  let best: { f: PinnedFile; rank: number } | undefined;
  for (const f of d.files) {
    const rank = wheelRank(f.filename, ranks);
    if (rank !== undefined && (!best || rank < best.rank)) best = { f, rank };
  }
  const sdist = sdists !== 'never' && (sdists === 'always' || !best) ? d.sdist : undefined;
  const files = [...(best ? [best.f] : []), ...(sdist ? [sdist] : [])];
  if (files.length === 0) {
    const why = d.sdist ? 'no wheel in the lockfile fits' : 'no wheel or sdist in the lockfile fits';
    if (d.marker) throw new AirlockError('CONFLICT', `${d.origin}: ${why} ${label}${d.sdist ? ' (sdists: never)' : ''}`);
    ctx.reporter.info(`${d.origin}: ${why} ${label}; not needed there, skipped`);
  }
  return Promise.all(files.map((f) => located(d, f, index)));
}

function markerHolds(d: PinnedDist, marker: Marker, env: MarkerEnvironment): boolean {
  try {
    return evaluateMarker(marker, env, [], d.markerSets);
  } catch (e) {
    if (e instanceof MarkerError) throw new AirlockError('CONFIG_INVALID', `${d.origin}: ${e.message}`);
    throw e;
  }
}

/** A pinned file as the index lists it; poetry.lock names files without URLs. */
async function located(d: PinnedDist, f: PinnedFile, index: IndexClient): Promise<IndexFile> {
  let { url, sha256 } = f;
  if (!url) {
    const listed = (await index.files(d.name)).find((x) => x.filename === f.filename);
    if (!listed) throw new AirlockError('NOT_FOUND', `${d.origin}: the index has no ${f.filename}`);
    if (sha256 && listed.sha256 && listed.sha256 !== sha256) {
      throw new AirlockError(
        'DIGEST_MISMATCH',
        `${d.origin}: the lockfile pins ${f.filename} to sha256:${sha256}, the index says sha256:${listed.sha256}`,
      );
    }
    url = listed.url;
    sha256 ??= listed.sha256;
  }
  return {
    filename: f.filename,
    url,
    ...(sha256 ? { sha256 } : {}),
    ...(f.size !== undefined ? { size: f.size } : {}),
    yanked: false,
    coreMetadata: false,
  };
}

/**
 * A wheel's METADATA read with HTTP Range requests (its tail, central directory and one
 * entry: a few KiB of a wheel that may be GiBs), or undefined when the server sends whole
 * files only. Without a size from the index (PEP 503 HTML has none) a suffix range fetches
 * the tail and tells the size in the same request.
 */
async function metadataByRanges(http: HttpClient, url: string, known: number | undefined, label: string): Promise<Buffer | undefined> {
  class NoRanges extends Error {}
  let size = known;
  let tail: Buffer | undefined;
  if (size === undefined) {
    const got = await http.getTail(url, ZIP_TAIL, label);
    if (!got) return undefined;
    ({ data: tail, total: size } = got);
  }
  const tailStart = size - (tail?.length ?? 0);
  try {
    return await readWheelMetadata(
      async (start, end) => {
        if (tail && start >= tailStart) return tail.subarray(start - tailStart, end - tailStart + 1);
        const part = await http.getRange(url, start, end, label);
        if (!part) throw new NoRanges();
        return part;
      },
      size,
      label,
    );
  } catch (e) {
    if (e instanceof NoRanges) return undefined;
    throw e;
  }
}

/** Requires-Dist and Provides-Extra of core metadata; a malformed requirement names the file. */
function dependencyFields(text: string, label: string): { requires: Requirement[]; extras: string[] } {
  const head = text.split(/\r?\n\r?\n/)[0] ?? '';
  const requires: Requirement[] = [];
  const extras: string[] = [];
  for (const line of head.split(/\r?\n/)) {
    const extra = /^Provides-Extra:\s*(.+)$/i.exec(line);
    if (extra) extras.push(normalizeName(extra[1]!.trim()));
    const m = /^Requires-Dist:\s*(.+)$/i.exec(line);
    if (!m) continue;
    try {
      requires.push(parseRequirement(m[1]!));
    } catch (e) {
      throw new AirlockError('UPSTREAM_INVALID', `${label}: bad Requires-Dist: ${(e as Error).message}`);
    }
  }
  return { requires, extras };
}
