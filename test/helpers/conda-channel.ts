import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { crc32, zstdCompressSync } from 'node:zlib';
import { pack } from 'tar-stream';

/**
 * Small conda channels built by the tests, in the formats conda, mamba and rattler read:
 * - `<subdir>/repodata.json`: `{ info: { subdir }, packages: { "<name>-<ver>-<build>.tar.bz2": record },
 *   "packages.conda": { "<...>.conda": record }, removed: [], repodata_version: 1 }`, each record
 *   with name, version, build, build_number, depends, subdir, md5, sha256, size (and noarch,
 *   license, timestamp where set); `noarch/repodata.json` always exists.
 * - `.tar.bz2`: a bzip2 tar holding `info/index.json` and the payload.
 * - `.conda` (format v2): an uncompressed zip holding `metadata.json`,
 *   `info-<stem>.tar.zst` and `pkg-<stem>.tar.zst`.
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

async function tarOf(entries: Record<string, string | Buffer>): Promise<Buffer> {
  const p = pack();
  for (const [name, body] of Object.entries(entries)) p.entry({ name, mtime: new Date(0), mode: 0o644 }, body);
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** An uncompressed (stored) zip, what `.conda` files are. */
function zipOf(entries: [string, Buffer][]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const n = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(20, 4);
    dir.writeUInt16LE(20, 6);
    dir.writeUInt32LE(crc, 16);
    dir.writeUInt32LE(data.length, 20);
    dir.writeUInt32LE(data.length, 24);
    dir.writeUInt16LE(n.length, 28);
    dir.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    central.push(dir, n);
    offset += local.length + n.length + data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

export function fileName(p: CondaPackage): string {
  return `${p.name}-${p.version}-${p.build ?? `h0_${p.buildNumber ?? 0}`}.${p.format ?? 'conda'}`;
}

export async function buildChannel(packages: CondaPackage[]): Promise<Channel> {
  const files = new Map<string, Buffer>();
  const records = new Map<string, Record<string, unknown>>();
  const repodata = new Map<string, { info: { subdir: string }; packages: Record<string, unknown>; 'packages.conda': Record<string, unknown>; removed: string[]; repodata_version: number }>();
  const subdirOf = (s: string) => {
    let r = repodata.get(s);
    if (!r) repodata.set(s, (r = { info: { subdir: s }, packages: {}, 'packages.conda': {}, removed: [], repodata_version: 1 }));
    return r;
  };
  subdirOf('noarch');
  for (const p of packages) {
    const build = p.build ?? `h0_${p.buildNumber ?? 0}`;
    const index = { name: p.name, version: p.version, build, build_number: p.buildNumber ?? 0, depends: p.depends ?? [], subdir: p.subdir, ...(p.subdir === 'noarch' ? { noarch: 'generic' } : {}), license: p.license ?? 'MIT', timestamp: 1700000000000 };
    const infoFiles = { 'info/index.json': JSON.stringify(index, null, 2) };
    const payloadFiles = { [`share/${p.name}/README`]: `${p.name} ${p.version} ${build}\n` };
    const stem = `${p.name}-${p.version}-${build}`;
    let body: Buffer;
    if ((p.format ?? 'conda') === 'conda') {
      body = zipOf([
        ['metadata.json', Buffer.from(JSON.stringify({ conda_pkg_format_version: 2 }))],
        [`info-${stem}.tar.zst`, zstdCompressSync(await tarOf(infoFiles))],
        [`pkg-${stem}.tar.zst`, zstdCompressSync(await tarOf(payloadFiles))],
      ]);
    } else {
      const bz = spawnSync('bzip2', ['-c'], { input: await tarOf({ ...infoFiles, ...payloadFiles }) });
      if (bz.status !== 0) throw new Error(`bzip2 failed: ${bz.stderr}`);
      body = bz.stdout;
    }
    const record: Record<string, unknown> = {
      ...index,
      md5: createHash('md5').update(body).digest('hex'),
      ...(p.md5Only ? {} : { sha256: createHash('sha256').update(body).digest('hex') }),
      size: body.length,
    };
    const name = fileName(p);
    files.set(`${p.subdir}/${name}`, body);
    records.set(name, record);
    subdirOf(p.subdir)[name.endsWith('.conda') ? 'packages.conda' : 'packages'][name] = record;
  }
  for (const [s, r] of repodata) files.set(`${s}/repodata.json`, Buffer.from(JSON.stringify(r, null, 1)));
  return { files, records };
}
