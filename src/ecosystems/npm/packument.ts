import { createHash } from 'node:crypto';
import { rcompare, valid } from 'semver';
import type { NpmVersionMetadata } from './record.js';
import { escapedName } from './names.js';

export const ABBREVIATED = 'application/vnd.npm.install-v1+json';

/** The fields npm's abbreviated metadata keeps of a version (what installs need). */
const ABBREVIATED_FIELDS = [
  'name',
  'version',
  'deprecated',
  'dependencies',
  'optionalDependencies',
  'devDependencies',
  'bundleDependencies',
  'bundledDependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'acceptDependencies',
  'bin',
  'directories',
  'dist',
  'engines',
  '_hasShrinkwrap',
  'hasInstallScript',
  'cpu',
  'os',
  'libc',
  'funding',
];

export interface PackumentInput {
  name: string;
  versions: NpmVersionMetadata[];
  /** `latest` → `1.2.0` */
  distTags: Record<string, string>;
  /** version → message */
  deprecated: Record<string, string>;
  /** The newest change to tags or deprecations, for `modified`. */
  refsModified?: string;
}

/**
 * A packument in npm's shapes: full (`application/json`) or abbreviated
 * (`application/vnd.npm.install-v1+json`), tarball URLs on this server. A pure function of
 * what the store holds, so the same store gives the same bytes.
 */
export function renderPackument(input: PackumentInput, baseUrl: string, abbreviated: boolean): Record<string, unknown> {
  const versions: Record<string, Record<string, unknown>> = {};
  const sorted = [...input.versions]
    .filter((v) => valid(String(v.manifest.version)))
    .sort((a, b) => rcompare(String(a.manifest.version), String(b.manifest.version)));
  for (const v of sorted) {
    const version = String(v.manifest.version);
    const dist = { ...(v.manifest.dist as Record<string, unknown>), tarball: `${baseUrl}/npm/${escapedName(input.name)}/-/${v.filename}` };
    const doc: Record<string, unknown> = { ...v.manifest, dist };
    if (input.deprecated[version]) doc.deprecated = input.deprecated[version];
    else delete doc.deprecated;
    // The abbreviated form drops scripts; npm still needs to know that install scripts exist.
    const scripts = (doc.scripts ?? {}) as Record<string, unknown>;
    if (scripts.preinstall || scripts.install || scripts.postinstall) doc.hasInstallScript = true;
    versions[version] = abbreviated
      ? Object.fromEntries(ABBREVIATED_FIELDS.filter((f) => doc[f] !== undefined).map((f) => [f, doc[f]]))
      : doc;
  }
  const times = sorted.map((v) => v.time).sort();
  const modified = [...times, ...(input.refsModified ? [input.refsModified] : [])].sort().at(-1) ?? new Date(0).toISOString();
  const distTags = Object.fromEntries(Object.entries(input.distTags).filter(([, v]) => versions[v]));
  if (!distTags.latest && sorted[0]) distTags.latest = String(sorted[0].manifest.version);
  if (abbreviated) return { name: input.name, modified, 'dist-tags': distTags, versions };
  const time: Record<string, string> = { created: times[0] ?? modified, modified };
  for (const v of sorted) time[String(v.manifest.version)] = v.time;
  const rev = createHash('sha256')
    .update(JSON.stringify([distTags, Object.keys(versions), input.deprecated]))
    .digest('hex')
    .slice(0, 32);
  return { _id: input.name, _rev: `${sorted.length}-${rev}`, name: input.name, 'dist-tags': distTags, versions, time };
}

/** npm asks for the abbreviated form first when installing: `application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, *\/*`. */
export function wantsAbbreviated(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((part) => part.trim().split(';')[0]!.trim() === ABBREVIATED);
}
