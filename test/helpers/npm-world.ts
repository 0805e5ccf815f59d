import { createHash } from 'node:crypto';
import type { TestContext } from 'node:test';
import { bytes } from './seed.js';
import { type Upstream, startUpstream } from './upstream.js';

export interface WorldPackage {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  os?: string[];
  cpu?: string[];
}

export interface NpmWorld {
  up: Upstream;
  /** The registry URL, with its trailing slash. */
  registry: string;
  /** A package-lock (lockfileVersion 3) pinning every package, flat under node_modules/. */
  lock: Record<string, unknown>;
  tarballPath(name: string, version: string): string;
}

const escaped = (name: string) => name.replace('/', '%2f');

/**
 * A registry (packuments and tarballs, the bytes not real tarballs: lock never unpacks them)
 * and a package-lock for `packages`, the project depending on `root`. A package reached only
 * through optionalDependencies is marked optional, as npm marks it.
 */
export async function npmWorld(t: TestContext, packages: WorldPackage[], root: Record<string, string>): Promise<NpmWorld> {
  const up = await startUpstream(t, {});
  const registry = `${up.url}/`;
  const tarballPath = (name: string, version: string) => `/${escaped(name)}/-/${name.split('/').pop()}-${version}.tgz`;
  const byName = new Map(packages.map((p) => [p.name, p]));
  const required = new Set<string>();
  const walk = (names: string[]) => {
    for (const n of names) {
      if (required.has(n)) continue;
      required.add(n);
      walk(Object.keys(byName.get(n)?.dependencies ?? {}));
    }
  };
  walk(Object.keys(root));
  const entries: Record<string, Record<string, unknown>> = { '': { name: 'app', version: '1.0.0', dependencies: root } };
  packages.forEach((p, i) => {
    const body = bytes(2_000 + i * 37, 1000 + i);
    const integrity = `sha512-${createHash('sha512').update(body).digest('base64')}`;
    const tarball = `${up.url}${tarballPath(p.name, p.version)}`;
    up.files.set(tarballPath(p.name, p.version), { body });
    const manifest = {
      name: p.name,
      version: p.version,
      ...(p.dependencies ? { dependencies: p.dependencies } : {}),
      ...(p.optionalDependencies ? { optionalDependencies: p.optionalDependencies } : {}),
      ...(p.os ? { os: p.os } : {}),
      ...(p.cpu ? { cpu: p.cpu } : {}),
      dist: { tarball, integrity },
    };
    up.files.set(`/${escaped(p.name)}`, {
      body: Buffer.from(
        JSON.stringify({ name: p.name, versions: { [p.version]: manifest }, time: { [p.version]: '2024-01-01T00:00:00.000Z' } }),
      ),
    });
    const { dist: _dist, name: _name, ...fields } = manifest;
    entries[`node_modules/${p.name}`] = { ...fields, resolved: tarball, integrity, ...(required.has(p.name) ? {} : { optional: true }) };
  });
  return { up, registry, lock: { name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: entries }, tarballPath };
}
