import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { run } from './cli.js';

/**
 * Small conda channels built by the tests, in the formats conda, mamba and rattler read:
 * - `<subdir>/repodata.json`: `{ info: { subdir }, packages: { "<name>-<ver>-<build>.tar.bz2": record },
 *   "packages.conda": { "<...>.conda": record }, removed: [], repodata_version: 1 }`, each record
 *   with name, version, build, build_number, depends, subdir, md5, sha256, size (and noarch,
 *   license, timestamp where set); `noarch/repodata.json` always exists.
 * - `.conda` and `.tar.bz2` files made by conda's own packager, `cph create`
 *   (conda-package-handling), from a folder with `info/index.json` and a payload.
 */
export interface CondaPackage {
  name: string;
  version: string;
  build?: string;
  buildNumber?: number;
  subdir: string;
  depends?: string[];
  format?: 'conda' | 'tar.bz2';
  /** A record that carries md5 only, as old channels do. */
  md5Only?: boolean;
  license?: string;
}

export interface Channel {
  /** Channel-relative path → bytes (`linux-64/repodata.json`, `noarch/x-1-0.conda`, ...). */
  files: Map<string, Buffer>;
  /** Filename → its record as written into repodata. */
  records: Map<string, Record<string, unknown>>;
}

export function fileName(p: CondaPackage): string {
  return `${p.name}-${p.version}-${p.build ?? `h0_${p.buildNumber ?? 0}`}.${p.format ?? 'conda'}`;
}

export async function buildChannel(packages: CondaPackage[], workDir: string): Promise<Channel> {
  const files = new Map<string, Buffer>();
  const records = new Map<string, Record<string, unknown>>();
  const repodata = new Map<
    string,
    {
      info: { subdir: string };
      packages: Record<string, unknown>;
      'packages.conda': Record<string, unknown>;
      removed: string[];
      repodata_version: number;
    }
  >();
  const subdirOf = (s: string) => {
    let r = repodata.get(s);
    if (!r) repodata.set(s, (r = { info: { subdir: s }, packages: {}, 'packages.conda': {}, removed: [], repodata_version: 1 }));
    return r;
  };
  subdirOf('noarch');
  for (const p of packages) {
    const build = p.build ?? `h0_${p.buildNumber ?? 0}`;
    const index = {
      name: p.name,
      version: p.version,
      build,
      build_number: p.buildNumber ?? 0,
      depends: p.depends ?? [],
      subdir: p.subdir,
      ...(p.subdir === 'noarch' ? { noarch: 'generic' } : {}),
      license: p.license ?? 'MIT',
      timestamp: 1700000000000,
    };
    const name = fileName(p);
    const prefix = join(workDir, 'src', p.subdir, name);
    for (const [path, body] of Object.entries({
      'info/index.json': JSON.stringify(index, null, 2),
      [`share/${p.name}/README`]: `${p.name} ${p.version} ${build}\n`,
    })) {
      await mkdir(dirname(join(prefix, path)), { recursive: true });
      await writeFile(join(prefix, path), body);
    }
    const out = join(workDir, 'channel', p.subdir);
    await mkdir(out, { recursive: true });
    const made = await run('cph', ['create', prefix, name, '--out-folder', out]);
    if (made.code !== 0) throw new Error(`cph create ${name}: ${made.stderr}`);
    const body = await readFile(join(out, name));
    const record: Record<string, unknown> = {
      ...index,
      md5: createHash('md5').update(body).digest('hex'),
      ...(p.md5Only ? {} : { sha256: createHash('sha256').update(body).digest('hex') }),
      size: body.length,
    };
    files.set(`${p.subdir}/${name}`, body);
    records.set(name, record);
    subdirOf(p.subdir)[name.endsWith('.conda') ? 'packages.conda' : 'packages'][name] = record;
  }
  for (const [s, r] of repodata) files.set(`${s}/repodata.json`, Buffer.from(JSON.stringify(r, null, 1)));
  return { files, records };
}
