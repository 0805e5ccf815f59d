import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import type { BlobInfo } from '../../core/blobstore.js';
import type { Digest } from '../../core/digest.js';
import { AirlockError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import { fileDigest, tempPathFor } from '../../core/fsutil.js';
import { inParallel } from '../../core/http.js';
import type { Progress } from '../../core/report.js';
import { type LockedArtifact, parseLock } from '../../manifest/lockfile.js';
import type { ResolveContext } from '../ecosystem.js';
import { type Dependent, type LockedPackage, parsePackageLock, readPackageLock } from './lockfile.js';
import { authHeaderFor, loadNpmConfig, registryFor } from './npmrc.js';
import { idealLock } from './tree.js';
import { escapedName, tarballFile } from './names.js';
import { fitsPlatform, npmPlatforms } from './platform.js';
import { type NpmVersionMetadata, readNpmMetadata } from './record.js';
import type { NpmSection } from './schema.js';
import { pushAll } from '../../core/arrays.js';

/** Packuments and tarballs at once: enough to hide each request's round trip, few enough for one registry. */
const CONCURRENCY = 8;
/** A progress line per this many packages pinned. */
const REPORT_EVERY = 100;

/** One name@version to pin, over every copy the locks hold. */
interface Wanted {
  pkg: LockedPackage;
  targets: Set<string>;
  dependents: Dependent[];
}

/** `metadata` of a locked npm artifact: the version as served, and what `lock --explain` tells. */
type LockedNpmMetadata = NpmVersionMetadata & { integrity: string; targets: string[]; requiredBy: string[]; asked: string[] };

const sha512Of = (integrity: string | undefined) => integrity?.split(/\s+/).find((x) => x.startsWith('sha512-'));
const requirer = (d: Dependent) => `${d.by}${d.kind ? ` (${d.kind})` : ''}`;
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

/**
 * Pins what package-locks say (and, for `packages:`, the lock npm would write for them), for
 * every target platform at once: a package restricted by `os`/`cpu`/`libc` is taken when it
 * fits any target (so linux-x64 and linux-arm64 builds of esbuild travel even from a lock
 * written on a Mac), and left out when it fits none, the reason kept in the lock's
 * `excluded`. A package-lock gives only a sha512 integrity while blobs are named by sha256
 * and size, so each tarball must be hashed once: a blob the store already holds (named by
 * the store's own artifact row or by the previous airlock.lock beside the manifest) is
 * hashed locally and reused when its sha512 is the lock's; anything else is downloaded,
 * checked against the integrity and kept with its version document from the registry.
 */
export async function resolveNpm(section: NpmSection, ctx: ResolveContext): Promise<LockedArtifact[]> {
  const cfg = await loadNpmConfig(ctx.manifestDir, section.registry);
  const platforms = npmPlatforms(ctx.target);
  const chosen = new Map<string, Wanted>();
  const left = new Map<string, { pkg: LockedPackage; reason: string; dependents: Dependent[] }>();
  const locks = await Promise.all(section.lockfiles.map((f) => readPackageLock(resolvePath(ctx.manifestDir, f))));
  if (section.packages.length)
    locks.push(
      parsePackageLock(
        await idealLock(section.packages, cfg, await ctx.store.blobs.tempDir()),
        'airlock.yaml npm.packages',
        'airlock.yaml npm.packages',
      ),
    );
  const leaveOut = (p: LockedPackage, reason: string) => {
    const key = `${p.name}@${p.version}`;
    const l = left.get(key) ?? { pkg: p, reason, dependents: [] };
    pushAll(l.dependents, p.dependents);
    left.set(key, l);
  };
  const nativeBuilds = new Set<string>();
  const nativeFits = new Set<string>();
  for (const lock of locks) {
    for (const p of lock) {
      if (p.dev && !section.includeDev) {
        leaveOut(p, 'a dev dependency, and npm.includeDev is false');
        continue;
      }
      const targets = ctx.target.platforms.filter((_, i) => fitsPlatform(p, platforms[i]!));
      if (p.os?.length || p.cpu?.length) {
        nativeBuilds.add(`${p.name}@${p.version}`);
        for (const t of targets) nativeFits.add(t);
      }
      if (targets.length === 0) {
        if (!p.optional) ctx.reporter.warn(`${p.origin}: ${p.name}@${p.version} fits none of the target platforms; left out`);
        leaveOut(p, platformReason(p, ctx.target.platforms, ctx.target.libc));
        continue;
      }
      const key = `${p.name}@${p.version}`;
      const w = chosen.get(key) ?? { pkg: p, targets: new Set<string>(), dependents: [] };
      w.pkg = p;
      for (const t of targets) w.targets.add(t);
      pushAll(w.dependents, p.dependents);
      chosen.set(key, w);
    }
  }
  // A platform that no os/cpu-specific build fits is almost always a target the packages do not
  // support (or a typo the vocabulary let through): its native modules would silently be missing.
  for (const t of nativeBuilds.size ? ctx.target.platforms : []) {
    if (nativeFits.has(t)) continue;
    ctx.reporter.warn(
      `npm: no platform-specific package fits ${t} (${nativeBuilds.size} are for other platforms, e.g. ${[...nativeBuilds].sort()[0]}): native builds will be missing there`,
    );
  }
  for (const [key, l] of left) {
    if (chosen.has(key)) continue;
    ctx.exclude?.({
      ecosystem: 'npm',
      key,
      name: l.pkg.name,
      version: l.pkg.version,
      reason: l.reason,
      requiredBy: sorted(l.dependents.map(requirer)),
    });
  }

  const packuments = new Map<string, Promise<Record<string, unknown>>>();
  const packument = (name: string): Promise<Record<string, unknown>> => {
    let p = packuments.get(name);
    if (!p) {
      const url = `${registryFor(cfg, name)}${escapedName(name)}`;
      p = ctx.http.getText(url, { accept: 'application/json', ...authHeaderFor(cfg, url) }).then((r) => {
        try {
          return JSON.parse(r.body) as Record<string, unknown>;
        } catch {
          throw new AirlockError('UPSTREAM_INVALID', `npm:${name}: the registry's packument is not JSON`);
        }
      });
      packuments.set(name, p);
    }
    return p;
  };

  const previous = await previousPins(ctx.manifestDir);
  let bytes = 0;
  let transfer: Progress | undefined;
  const downloaded = (): Progress => (transfer ??= ctx.reporter.progress('npm: tarballs', undefined));
  const counts = { pinned: 0, downloaded: 0 };

  const pin = async (w: Wanted): Promise<LockedArtifact> => {
    const p = w.pkg;
    const key = `${p.name}@${p.version}`;
    const label = `npm:${key}`;
    const wanted = sha512Of(p.integrity);
    if (p.integrity && !wanted) ctx.reporter.warn(`${p.origin}: integrity ${p.integrity} has no sha512; checked by sha512 from now on`);
    const row = wanted ? await ctx.store.meta.getArtifact('npm', key) : undefined;
    const stored = row && readNpmMetadata(row.metadata);
    const rowIntegrity = row && (row.metadata.integrity ?? (stored?.manifest.dist as { integrity?: unknown } | undefined)?.integrity);
    const candidates = [
      ...(row && typeof rowIntegrity === 'string' && sha512Of(rowIntegrity) === wanted ? [row.digest] : []),
      ...(previous.get(key)?.integrity === wanted ? [previous.get(key)!.digest] : []),
    ];
    let blob = wanted ? await storedBlob(ctx, wanted, candidates) : undefined;
    let version: NpmVersionMetadata;
    let url: string;
    let integrity: string;
    const rowUrl = p.resolved ?? row?.source;
    if (blob && stored && row.digest === blob.digest && rowUrl) {
      // The store's own record of this version: no packument needed.
      version = { manifest: stored.manifest, filename: stored.filename, time: stored.time };
      url = rowUrl;
      integrity = wanted!;
    } else {
      const doc = await packument(p.name);
      const manifest = (doc.versions as Record<string, Record<string, unknown>> | undefined)?.[p.version];
      if (!manifest) throw new AirlockError('NOT_FOUND', `${label}: the registry's packument has no version ${p.version}`);
      const tarball = p.resolved ?? (manifest.dist as { tarball?: unknown } | undefined)?.tarball;
      if (typeof tarball !== 'string' || !/^https?:\/\//.test(tarball))
        throw new AirlockError('NOT_FOUND', `${label}: neither the lock nor the registry names its tarball`);
      url = tarball;
      if (blob) integrity = wanted!;
      else {
        const got = await download(ctx, url, label, authHeaderFor(cfg, url), (n) => {
          bytes += n;
          downloaded().update(bytes);
        });
        try {
          if (wanted && wanted !== got.integrity)
            throw new AirlockError(
              'DIGEST_MISMATCH',
              `${label}: ${redactUrl(url)} does not match the lock's integrity (expected ${wanted}, got ${got.integrity})`,
            );
          if (!p.integrity)
            ctx.reporter.warn(`${p.origin}: no integrity in the lockfile; pinned what the registry served (${got.integrity})`);
          await ctx.store.blobs.adopt(got.file, got.blob);
        } finally {
          await rm(got.file, { force: true });
        }
        blob = got.blob;
        integrity = got.integrity;
        counts.downloaded++;
      }
      const { tarball: _url, ...dist } = (manifest.dist ?? {}) as Record<string, unknown>;
      const time = (doc.time as Record<string, string> | undefined)?.[p.version] ?? '1970-01-01T00:00:00.000Z';
      version = { manifest: { ...manifest, dist: { ...dist, integrity } }, filename: tarballFile(p.name, p.version), time };
    }
    const meta: LockedNpmMetadata = {
      ...version,
      integrity,
      targets: ctx.target.platforms.filter((t) => w.targets.has(t)),
      requiredBy: sorted(w.dependents.map(requirer)),
      asked: sorted(w.dependents.map((d) => `${d.as}@${d.range} from ${requirer(d)}`)),
    };
    return {
      ecosystem: 'npm',
      key,
      name: p.name,
      version: p.version,
      digest: blob.digest,
      size: blob.size,
      mediaType: 'application/octet-stream',
      source: url,
      metadata: meta as unknown as Record<string, unknown>,
      blobs: [{ digest: blob.digest, size: blob.size, url }],
    };
  };

  const wanted = [...chosen.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, w]) => w);
  const out: LockedArtifact[] = new Array(wanted.length);
  try {
    await inParallel(wanted, CONCURRENCY, async (w, i) => {
      out[i] = await pin(w);
      if (++counts.pinned % REPORT_EVERY === 0 && counts.pinned < wanted.length)
        ctx.reporter.info(`npm: ${counts.pinned}/${wanted.length} package(s) pinned`);
    });
  } finally {
    transfer?.finish();
  }
  ctx.reporter.info(
    `npm: ${out.length}/${wanted.length} package(s) pinned for ${ctx.target.platforms.join(', ')}: ${counts.downloaded} tarball(s) downloaded, ${out.length - counts.downloaded} already in the store`,
  );
  return out;
}

/** `os darwin, cpu arm64 match no target (linux/amd64, linux/arm64)` */
function platformReason(p: LockedPackage, targets: readonly string[], libc: string | undefined): string {
  const parts = (['os', 'cpu', 'libc'] as const).flatMap((f) => (p[f]?.length ? [`${f} ${p[f]!.join(',')}`] : []));
  return `${parts.join(', ')} ${parts.length > 1 ? 'match' : 'matches'} no target (${targets.join(', ')}${libc ? `; libc ${libc}` : ''})`;
}

/**
 * What the previous airlock.lock beside the manifest pinned for npm: integrity → blob. Only
 * hints: a blob is reused after the store's copy hashes to the integrity. An unreadable or
 * older lock gives none.
 */
async function previousPins(manifestDir: string): Promise<Map<string, { integrity: string; digest: Digest }>> {
  const out = new Map<string, { integrity: string; digest: Digest }>();
  const path = join(manifestDir, 'airlock.lock');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return out;
  }
  let artifacts;
  try {
    artifacts = parseLock(text, path).artifacts;
  } catch {
    return out;
  }
  for (const a of artifacts) {
    const integrity = sha512Of(typeof a.metadata.integrity === 'string' ? a.metadata.integrity : undefined);
    if (a.ecosystem === 'npm' && integrity) out.set(a.key, { integrity, digest: a.digest });
  }
  return out;
}

/** The first candidate the store holds whose bytes have this sha512 integrity. */
async function storedBlob(ctx: ResolveContext, integrity: string, candidates: readonly Digest[]): Promise<BlobInfo | undefined> {
  for (const digest of new Set(candidates)) {
    const info = await ctx.store.blobs.stat(digest);
    if (!info) continue;
    const h = createHash('sha512');
    for await (const chunk of await ctx.store.blobs.open(digest)) h.update(chunk as Buffer);
    if (`sha512-${h.digest('base64')}` === integrity) return info;
  }
  return undefined;
}

/** A tarball into a temp file under the store, with its sha256 and sha512; the caller adopts or drops it. */
async function download(
  ctx: ResolveContext,
  url: string,
  label: string,
  headers: Record<string, string>,
  moved: (bytes: number) => void,
): Promise<{ file: string; blob: BlobInfo; integrity: string }> {
  const file = tempPathFor(join(await ctx.store.blobs.tempDir(), 'npm'));
  let seen = 0;
  try {
    const blob = await ctx.http.download({
      url,
      dest: file,
      label,
      headers,
      onProgress: (done) => {
        if (done > seen) moved(done - seen);
        seen = Math.max(seen, done);
      },
    });
    return { file, blob, integrity: `sha512-${(await fileDigest(file, 'sha512')).toString('base64')}` };
  } catch (e) {
    await rm(file, { force: true });
    throw e;
  }
}
