import { rm } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { AirlockError } from '../../core/errors.js';
import { fileDigest, tempPathFor } from '../../core/fsutil.js';
import type { LockedArtifact } from '../../manifest/lockfile.js';
import type { ResolveContext } from '../ecosystem.js';
import { type LockedPackage, parsePackageLock, readPackageLock } from './lockfile.js';
import { authHeaderFor, loadNpmConfig, registryFor } from './npmrc.js';
import { idealLock } from './tree.js';
import { escapedName, tarballFile } from './names.js';
import { fitsPlatform, npmPlatforms } from './platform.js';
import type { NpmVersionMetadata } from './record.js';
import type { NpmSection } from './schema.js';

/**
 * Pins what package-locks say (and, for `packages:`, the lock npm would write for them), for
 * every target platform at once: a package restricted by
 * `os`/`cpu`/`libc` is taken when it fits any target (so linux-x64 and linux-arm64 builds of
 * esbuild travel even from a lock written on a Mac), and left out when it fits none. Each
 * tarball is downloaded now, checked against the lock's sha512 integrity and kept with its
 * version document from the registry.
 */
export async function resolveNpm(section: NpmSection, ctx: ResolveContext): Promise<LockedArtifact[]> {
  const cfg = await loadNpmConfig(ctx.manifestDir, section.registry);
  const platforms = npmPlatforms(ctx.target);
  const chosen = new Map<string, LockedPackage>();
  const locks = await Promise.all(section.lockfiles.map((f) => readPackageLock(resolvePath(ctx.manifestDir, f))));
  if (section.packages.length) locks.push(parsePackageLock(await idealLock(section.packages, cfg, await ctx.store.blobs.tempDir()), 'airlock.yaml npm.packages'));
  for (const lock of locks) {
    for (const p of lock) {
      if (p.dev && !section.includeDev) continue;
      if (!platforms.some((pl) => fitsPlatform(p, pl))) {
        if (!p.optional) ctx.reporter.warn(`${p.origin}: ${p.name}@${p.version} fits none of the target platforms; left out`);
        continue;
      }
      chosen.set(`${p.name}@${p.version}`, p);
    }
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
          throw new AirlockError('HTTP_ERROR', `npm:${name}: the registry's packument is not JSON`);
        }
      });
      packuments.set(name, p);
    }
    return p;
  };

  const out: LockedArtifact[] = [];
  for (const p of [...chosen.values()].sort((a, b) => (`${a.name}@${a.version}` < `${b.name}@${b.version}` ? -1 : 1))) {
    const label = `npm:${p.name}@${p.version}`;
    const doc = await packument(p.name);
    const manifest = (doc.versions as Record<string, Record<string, unknown>> | undefined)?.[p.version];
    if (!manifest) throw new AirlockError('NOT_FOUND', `${label}: the registry's packument has no version ${p.version}`);
    const url = p.resolved ?? (manifest.dist as { tarball?: unknown } | undefined)?.tarball;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new AirlockError('NOT_FOUND', `${label}: neither the lock nor the registry names its tarball`);
    const dest = tempPathFor(join(await ctx.store.blobs.tempDir(), 'npm'));
    let blob;
    let integrity: string;
    try {
      blob = await ctx.http.download({ url, dest, label, headers: authHeaderFor(cfg, url) });
      integrity = `sha512-${(await fileDigest(dest, 'sha512')).toString('base64')}`;
      const wanted = p.integrity?.split(/\s+/).find((x) => x.startsWith('sha512-'));
      if (p.integrity && !wanted) ctx.reporter.warn(`${p.origin}: integrity ${p.integrity} has no sha512; checked by sha512 from now on`);
      if (wanted && wanted !== integrity) throw new AirlockError('DIGEST_MISMATCH', `${label}: ${url} does not match the lock's integrity (expected ${wanted}, got ${integrity})`);
      if (!p.integrity) ctx.reporter.warn(`${p.origin}: no integrity in the lockfile; pinned what the registry served (${integrity})`);
      await ctx.store.blobs.adopt(dest, blob);
    } finally {
      await rm(dest, { force: true });
    }
    const { tarball: _url, ...dist } = (manifest.dist ?? {}) as Record<string, unknown>;
    const time = (doc.time as Record<string, string> | undefined)?.[p.version] ?? '1970-01-01T00:00:00.000Z';
    const meta: NpmVersionMetadata & { integrity: string } = { manifest: { ...manifest, dist: { ...dist, integrity } }, filename: tarballFile(p.name, p.version), time, integrity };
    out.push({
      ecosystem: 'npm',
      key: `${p.name}@${p.version}`,
      name: p.name,
      version: p.version,
      digest: blob.digest,
      size: blob.size,
      mediaType: 'application/octet-stream',
      source: url,
      metadata: meta as unknown as Record<string, unknown>,
      blobs: [{ digest: blob.digest, size: blob.size, url }],
    });
  }
  ctx.reporter.info(`npm: ${out.length} package(s) for ${ctx.target.platforms.join(', ')}`);
  return out;
}
