import { readFile, rm } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import type { Digest } from '../../core/digest.js';
import { AirlockError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import { fileDigest, readConfigText, tempPathFor } from '../../core/fsutil.js';
import type { LockedArtifact } from '../../manifest/lockfile.js';
import type { ResolveContext } from '../ecosystem.js';
import { channelName, channelUrl, parsePackageUrl } from './channel.js';
import { parseEnvironmentFile } from './environment-file.js';
import { parseExplicit } from './explicit.js';
import { parseCondaLock } from './lockfiles.js';
import type { PinnedPackage } from './inputs.js';
import { condaSubdirs, virtualPackages } from './platforms.js';
import { solve } from './rattler.js';
import { type CondaPackageMetadata, packageKey } from './record.js';
import { type CondaRecord, type Repodata, checkRecord, parseRepodata } from './repodata.js';
import type { CondaSection } from './schema.js';

/** One solve: specs against channels, from airlock.yaml or an environment file. */
interface SolveJob {
  specs: string[];
  channels: string[];
  origin: string;
}

/**
 * Pins conda packages for every target subdir (and noarch): specs and environment files are
 * solved by rattler; explicit files and locks are taken as they are. Every package's record
 * comes from its channel's repodata.json, kept as upstream wrote it; a package repodata gives
 * a sha256 and size is fetched later by `fetch`, one with only an md5 is downloaded now and
 * checked.
 */
export async function resolveConda(section: CondaSection, ctx: ResolveContext): Promise<LockedArtifact[]> {
  const subdirs = condaSubdirs(ctx.target);
  const alias = section.channelAlias;
  const wanted = new Map<string, PinnedPackage>();

  const jobs: SolveJob[] = [];
  if (section.specs.length)
    jobs.push({ specs: section.specs, channels: section.channels.map((c) => channelUrl(c, alias)), origin: 'airlock.yaml conda.specs' });
  for (const f of section.environmentFiles) {
    const env = parseEnvironmentFile(await readConfigText(resolvePath(ctx.manifestDir, f), f), f);
    if (env.pip.length)
      ctx.reporter.warn(`${f}: its pip: dependencies (${env.pip.join(', ')}) are PyPI's; list them under pypi: to carry them`);
    const channels = (env.channels.length ? env.channels : section.channels).map((c) => channelUrl(c, alias));
    if (!channels.length) throw new AirlockError('CONFIG_INVALID', `${f}: names no channels, and airlock.yaml's conda.channels is empty`);
    if (env.specs.length) jobs.push({ specs: env.specs, channels, origin: f });
  }
  for (const job of jobs) {
    for (const subdir of subdirs) {
      const virtual = virtualPackages(subdir, ctx.target, section.virtualPackages);
      const solved = await ctx.http.withGlobalFetch(() => solve(job.specs, job.channels, subdir, virtual, `conda: ${job.origin}`));
      for (const url of solved)
        if (!wanted.has(url))
          wanted.set(url, { ...parsePackageUrl(url, `conda: the solver's answer for ${job.origin}`), origin: job.origin });
    }
  }
  for (const f of section.explicit) {
    for (const p of parseExplicit(await readConfigText(resolvePath(ctx.manifestDir, f), f), f)) wanted.set(p.url, p);
  }
  for (const f of section.lockfiles) {
    const { packages, skipped } = parseCondaLock(await readConfigText(resolvePath(ctx.manifestDir, f), f), f, subdirs);
    if (skipped.length)
      ctx.reporter.warn(
        `${f}: ${skipped.length} non-conda package(s) left out (${skipped.slice(0, 3).join(', ')}${skipped.length > 3 ? ', ...' : ''})`,
      );
    for (const p of packages) wanted.set(p.url, p);
  }

  const repodata = new Map<string, Promise<Repodata>>();
  const recordOf = async (p: PinnedPackage): Promise<{ record: CondaRecord; text: string }> => {
    const url = `${p.channelUrl}/${p.subdir}/repodata.json`;
    let r = repodata.get(url);
    if (!r) repodata.set(url, (r = fetchRepodata(url, ctx)));
    const label = `conda:${channelName(p.channelUrl)}/${p.subdir}`;
    const found = (await r).get(p.filename);
    if (!found) throw new AirlockError('NOT_FOUND', `${p.origin}: ${p.filename} is not in ${redactUrl(url)}`);
    return { record: checkRecord(p.filename, found.record, label), text: found.text };
  };

  const out = new Map<string, LockedArtifact>();
  for (const p of [...wanted.values()].sort((a, b) => (a.url < b.url ? -1 : 1))) {
    const { record, text } = await recordOf(p);
    const channel = channelName(p.channelUrl);
    const key = packageKey(channel, p.subdir, p.filename);
    const label = `conda:${key}`;
    if (p.sha256 && record.sha256 && p.sha256.toLowerCase() !== record.sha256) {
      throw new AirlockError(
        'DIGEST_MISMATCH',
        `${p.origin}: ${p.filename} is pinned to sha256 ${p.sha256}, the channel's repodata says ${record.sha256}`,
      );
    }
    if (p.md5 && record.md5 && p.md5.toLowerCase() !== record.md5) {
      throw new AirlockError(
        'DIGEST_MISMATCH',
        `${p.origin}: ${p.filename} is pinned to md5 ${p.md5}, the channel's repodata says ${record.md5}`,
      );
    }
    const blob =
      record.sha256 && record.size !== undefined
        ? { digest: `sha256:${record.sha256}` as Digest, size: record.size }
        : await downloadChecked(p, record, label, ctx);
    const prior = out.get(key);
    if (prior && prior.digest !== blob.digest)
      throw new AirlockError(
        'CONFLICT',
        `${label}: ${redactUrl(prior.source ?? '')} and ${redactUrl(p.url)} are different files under one name`,
      );
    const meta: CondaPackageMetadata = { channel, subdir: p.subdir, filename: p.filename, record: text };
    out.set(key, {
      ecosystem: 'conda',
      key,
      name: record.name,
      version: record.version,
      digest: blob.digest,
      size: blob.size,
      mediaType: 'application/octet-stream',
      source: p.url,
      metadata: meta as unknown as Record<string, unknown>,
      blobs: [{ ...blob, url: p.url }],
    });
  }
  ctx.reporter.info(`conda: ${out.size} package(s) for ${[...subdirs, 'noarch'].join(', ')}`);
  return [...out.values()];
}

/** A subdir's repodata.json; a channel without that subdir has none (404), which is no error. */
async function fetchRepodata(url: string, ctx: ResolveContext): Promise<Repodata> {
  const dest = tempPathFor(join(await ctx.store.blobs.tempDir(), 'repodata'));
  try {
    await ctx.http.download({ url, dest, label: url });
    return parseRepodata(await readFile(dest, 'utf8'), url);
  } catch (e) {
    if (e instanceof AirlockError && e.code === 'NOT_FOUND') return new Map();
    throw e;
  } finally {
    await rm(dest, { force: true });
  }
}

/** A package repodata pins by md5 (or without a size): downloaded now and checked, then pinned by sha256. */
async function downloadChecked(
  p: PinnedPackage,
  record: CondaRecord,
  label: string,
  ctx: ResolveContext,
): Promise<{ digest: Digest; size: number }> {
  const dest = tempPathFor(join(await ctx.store.blobs.tempDir(), 'conda'));
  try {
    const blob = await ctx.http.download({
      url: p.url,
      dest,
      label,
      ...(record.size !== undefined ? { expectedSize: record.size } : {}),
      ...((record.sha256 ?? p.sha256) ? { expectedDigest: `sha256:${record.sha256 ?? p.sha256!.toLowerCase()}` as Digest } : {}),
    });
    if (record.md5 && !record.sha256) {
      const md5 = (await fileDigest(dest, 'md5')).toString('hex');
      if (md5 !== record.md5)
        throw new AirlockError(
          'DIGEST_MISMATCH',
          `${label}: ${redactUrl(p.url)} has md5 ${md5}, the channel's repodata says ${record.md5}`,
        );
    }
    await ctx.store.blobs.adopt(dest, blob);
    return blob;
  } finally {
    await rm(dest, { force: true });
  }
}
