import type { MarkerEnvironment } from './markers.js';

/**
 * One target interpreter on one platform, in the vocabulary of airlock.yaml's `target`.
 * Everything here is computed from the target, never from the machine airlock runs on.
 */
export interface PythonTarget {
  /** `linux/amd64`, `linux/arm64`, `windows/amd64`, `darwin/arm64`, ... */
  platform: string;
  /** `3.12` or `3.12.4`. */
  python: string;
  /** `glibc-2.28` or `musl-1.2`; Linux only. Default DEFAULT_LIBC. */
  libc?: string;
}

/** The libc of a Linux target whose `target.libc` is not set: manylinux2014's glibc. */
export const DEFAULT_LIBC = 'glibc-2.17';

const LINUX_ARCH: Record<string, string> = {
  amd64: 'x86_64',
  arm64: 'aarch64',
  '386': 'i686',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  arm: 'armv7l',
};
const WINDOWS_ARCH: Record<string, [string, string]> = {
  amd64: ['win_amd64', 'AMD64'],
  arm64: ['win_arm64', 'ARM64'],
  '386': ['win32', 'x86'],
};
const DARWIN_ARCH: Record<string, [string[], string]> = {
  arm64: [['arm64', 'universal2'], 'arm64'],
  amd64: [['x86_64', 'intel', 'fat64', 'fat32', 'universal2', 'universal'], 'x86_64'],
};

export class TargetError extends Error {}

function split(t: PythonTarget): { os: string; arch: string; major: number; minor: number; full: string } {
  const [os, arch] = t.platform.split('/');
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(t.python);
  if (!os || !arch || !m) throw new TargetError(`target ${t.platform} python ${t.python} is not understood`);
  return { os, arch, major: Number(m[1]), minor: Number(m[2]), full: m[3] ? t.python : `${m[1]}.${m[2]}.0` };
}

/** Platform tags, most specific first, as pip orders them. */
export function platformTags(t: PythonTarget): string[] {
  const { os, arch } = split(t);
  if (os === 'linux') {
    const machine = LINUX_ARCH[arch];
    if (!machine) throw new TargetError(`no Python platform tags for ${t.platform}`);
    const libc = /^(glibc|musl)-(\d+)\.(\d+)$/.exec(t.libc ?? DEFAULT_LIBC);
    if (!libc) throw new TargetError(`libc ${t.libc} is not glibc-X.Y or musl-X.Y`);
    const minor = Number(libc[3]);
    const out: string[] = [];
    if (libc[1] === 'musl') {
      for (let m = minor; m >= 0; m--) out.push(`musllinux_1_${m}_${machine}`);
    } else {
      // manylinux_2_17 is the floor for every architecture but x86_64 and i686, which go to 2_5.
      const floor = machine === 'x86_64' || machine === 'i686' ? 5 : 17;
      for (let m = minor; m >= floor; m--) {
        out.push(`manylinux_2_${m}_${machine}`);
        if (m === 17) out.push(`manylinux2014_${machine}`);
        if (m === 12 && floor === 5) out.push(`manylinux2010_${machine}`);
        if (m === 5) out.push(`manylinux1_${machine}`);
      }
    }
    out.push(`linux_${machine}`);
    return out;
  }
  if (os === 'windows') {
    const w = WINDOWS_ARCH[arch];
    if (!w) throw new TargetError(`no Python platform tags for ${t.platform}`);
    return [w[0]];
  }
  if (os === 'darwin') {
    const d = DARWIN_ARCH[arch];
    if (!d) throw new TargetError(`no Python platform tags for ${t.platform}`);
    // macOS 11 is the oldest that runs on Apple silicon; Intel wheels reach back to 10.9.
    const versions = arch === 'arm64' ? ['11_0'] : ['11_0', ...Array.from({ length: 8 }, (_, i) => `10_${16 - i}`)];
    return versions.flatMap((v) => d[0].map((f) => `macosx_${v}_${f}`));
  }
  throw new TargetError(`no Python platform tags for ${t.platform}`);
}

/** Every tag a CPython of this target accepts, best first (packaging's sys_tags order). */
export function supportedTags(t: PythonTarget): string[] {
  const { major, minor } = split(t);
  const plats = platformTags(t);
  const cp = `cp${major}${minor}`;
  const out: string[] = [];
  for (const p of plats) out.push(`${cp}-${cp}-${p}`);
  for (const p of plats) out.push(`${cp}-abi3-${p}`);
  for (const p of plats) out.push(`${cp}-none-${p}`);
  for (let m = minor - 1; m >= 2; m--) for (const p of plats) out.push(`cp${major}${m}-abi3-${p}`);
  const py = [`py${major}${minor}`, `py${major}`, ...Array.from({ length: minor }, (_, i) => `py${major}${minor - 1 - i}`)];
  for (const v of py) for (const p of plats) out.push(`${v}-none-${p}`);
  out.push(`${cp}-none-any`);
  for (const v of py) out.push(`${v}-none-any`);
  return out;
}

/** The tags a wheel filename declares (compressed tag sets expanded). */
export function wheelTags(filename: string): string[] {
  const parts = filename.replace(/\.whl$/, '').split('-');
  const [py, abi, plat] = parts.slice(-3) as [string, string, string];
  const out: string[] = [];
  for (const a of py.split('.')) for (const b of abi.split('.')) for (const c of plat.split('.')) out.push(`${a}-${b}-${c}`);
  return out;
}

/** Rank of the best tag a wheel matches for this target (lower is better), or undefined. */
export function wheelRank(filename: string, ranks: ReadonlyMap<string, number>): number | undefined {
  let best: number | undefined;
  for (const tag of wheelTags(filename)) {
    const r = ranks.get(tag);
    if (r !== undefined && (best === undefined || r < best)) best = r;
  }
  return best;
}

/** `linux/amd64 python 3.11 glibc-2.17`: the libc only on Linux, and the default when none is set. */
export function describeTarget(t: PythonTarget): string {
  return `${t.platform} python ${t.python}${split(t).os === 'linux' ? ` ${t.libc ?? DEFAULT_LIBC}` : ''}`;
}

/** What a wheel's platform tag asks of the machine, or undefined for a tag airlock does not know. */
interface WheelPlatform {
  os: 'linux' | 'windows' | 'darwin';
  /** In the tag's own words: `aarch64`, `win32`, `universal2`. */
  machine: string;
  libc?: { family: 'glibc' | 'musl'; major: number; minor: number };
  macos?: [number, number];
}

const MANYLINUX_ALIASES: Record<string, number> = { manylinux1: 5, manylinux2010: 12, manylinux2014: 17 };

function wheelPlatform(tag: string): WheelPlatform | undefined {
  let m = /^(manylinux|musllinux)_(\d+)_(\d+)_(.+)$/.exec(tag);
  if (m)
    return {
      os: 'linux',
      machine: m[4]!,
      libc: { family: m[1] === 'musllinux' ? 'musl' : 'glibc', major: Number(m[2]), minor: Number(m[3]) },
    };
  m = /^(manylinux\d+)_(.+)$/.exec(tag);
  if (m && MANYLINUX_ALIASES[m[1]!] !== undefined)
    return { os: 'linux', machine: m[2]!, libc: { family: 'glibc', major: 2, minor: MANYLINUX_ALIASES[m[1]!]! } };
  m = /^linux_(.+)$/.exec(tag);
  if (m) return { os: 'linux', machine: m[1]! };
  m = /^macosx_(\d+)_(\d+)_(.+)$/.exec(tag);
  if (m) return { os: 'darwin', machine: m[3]!, macos: [Number(m[1]), Number(m[2])] };
  if (tag === 'win32') return { os: 'windows', machine: 'x86' };
  m = /^win_(.+)$/.exec(tag);
  if (m) return { os: 'windows', machine: m[1]! };
  return undefined;
}

const OS_NAMES = { linux: 'Linux', windows: 'Windows', darwin: 'macOS' };

const newer = (a: readonly [number, number], b: readonly [number, number]): boolean => a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);

/** Why a platform tag misses the target, and how far off it is: a libc or macOS too new is nearest, another OS furthest. */
function platformMisfit(tag: string, t: PythonTarget, plats: readonly string[]): { reason: string; distance: number } | undefined {
  if (tag === 'any' || plats.includes(tag)) return undefined;
  const p = wheelPlatform(tag);
  if (!p) return { reason: `has platform tag ${tag}, which airlock does not know`, distance: 5 };
  const { os } = split(t);
  if (p.os !== os) return { reason: `is for ${OS_NAMES[p.os]} ${p.machine}`, distance: 4 };
  // Another architecture of the same OS: none of the target's tags names this machine.
  if (!plats.some((x) => x.endsWith(`_${p.machine}`))) return { reason: `is for ${OS_NAMES[p.os]} ${p.machine}`, distance: 3 };
  const other = { reason: `has platform tag ${tag}, which the target does not take`, distance: 1 };
  if (p.libc) {
    const have = /^(glibc|musl)-(\d+)\.(\d+)$/.exec(t.libc ?? DEFAULT_LIBC)!;
    const needs = `${p.libc.family}-${p.libc.major}.${p.libc.minor}`;
    const fix = `(the target is ${have[1]} ${have[2]}.${have[3]}${t.libc ? '' : ', the default'} — set target.libc: ${needs})`;
    const at = `${p.libc.family} >= ${p.libc.major}.${p.libc.minor}`;
    if (p.libc.family !== have[1])
      return { reason: `is ${p.libc.family === 'musl' ? 'musllinux' : 'manylinux'}, needs ${at} ${fix}`, distance: 2 };
    if (newer([p.libc.major, p.libc.minor], [Number(have[2]), Number(have[3])])) return { reason: `needs ${at} ${fix}`, distance: 1 };
    return other;
  }
  if (p.macos) {
    const newest = /^macosx_(\d+)_(\d+)_/.exec(plats[0]!)!;
    if (newer(p.macos, [Number(newest[1]), Number(newest[2])]))
      return {
        reason: `needs macOS >= ${p.macos.join('.')} (airlock's ${t.platform} target is macOS ${newest[1]}.${newest[2]})`,
        distance: 1,
      };
    return other;
  }
  return other;
}

const IMPLEMENTATIONS: Record<string, string> = {
  cp: 'CPython',
  py: 'Python',
  pp: 'PyPy',
  ip: 'IronPython',
  jy: 'Jython',
  gp: 'GraalPy',
  graalpy: 'GraalPy',
};

/** Why an interpreter and ABI tag pair misses a CPython target: another implementation, another version, another ABI. */
function interpreterMisfit(
  py: string,
  abi: string,
  t: PythonTarget,
  pairs: ReadonlySet<string>,
): { reason: string; distance: number } | undefined {
  if (pairs.has(`${py}-${abi}`)) return undefined;
  const { major, minor } = split(t);
  const m = /^([a-z]+?)(\d)(\d*)$/.exec(py);
  const impl = m ? IMPLEMENTATIONS[m[1]!] : undefined;
  if (!m || !impl) return { reason: `has interpreter tag ${py}, which airlock does not know`, distance: 3 };
  const version = m[3] ? `${m[2]}.${m[3]}` : m[2]!;
  if (impl !== 'CPython' && impl !== 'Python') return { reason: `is for ${impl} ${version}, not CPython`, distance: 3 };
  const [wantMajor, wantMinor] = [Number(m[2]), m[3] ? Number(m[3]) : undefined];
  if (impl === 'CPython' && abi === 'abi3' && wantMajor === major && (wantMinor ?? 0) > minor)
    return { reason: `needs CPython >= ${version} (abi3)`, distance: 2 };
  if (
    wantMajor !== major ||
    (wantMinor !== undefined && (impl === 'CPython' && abi !== 'abi3' ? wantMinor !== minor : wantMinor > minor))
  ) {
    return { reason: `is for ${impl} ${version}`, distance: 2 };
  }
  return { reason: `has ABI ${abi} (the target takes cp${major}${minor}, abi3 or none)`, distance: 1 };
}

/**
 * Why no tag of a wheel fits the target, from its nearest tag; undefined when one fits.
 * `distance` orders files by how near they came: same platform first, then the interpreter.
 */
export function wheelMisfit(
  filename: string,
  t: PythonTarget,
  ranks: ReadonlyMap<string, number>,
): { reason: string; distance: number } | undefined {
  if (wheelRank(filename, ranks) !== undefined) return undefined;
  const plats = platformTags(t);
  const pairs = new Set([...ranks.keys()].map((tag) => tag.split('-').slice(0, 2).join('-')));
  let best: { reason: string; distance: number } | undefined;
  for (const tag of wheelTags(filename)) {
    const [py, abi, plat] = tag.split('-') as [string, string, string];
    const p = platformMisfit(plat, t, plats);
    const i = interpreterMisfit(py, abi, t, pairs);
    const reasons = [p?.reason, i?.reason].filter(Boolean);
    // Each part fits on its own, but not together (`cp311-cp311-any`).
    const reason = reasons.length ? reasons.join(' and ') : `has tag ${tag}, which the target does not take`;
    const distance = (p?.distance ?? 0) * 4 + (i?.distance ?? (reasons.length ? 0 : 1));
    if (!best || distance < best.distance) best = { reason, distance };
  }
  return best;
}

/** The marker environment of a CPython on this target. */
export function markerEnvironment(t: PythonTarget): MarkerEnvironment {
  const { os, arch, major, minor, full } = split(t);
  const machine =
    os === 'linux' ? (LINUX_ARCH[arch] ?? arch) : os === 'windows' ? (WINDOWS_ARCH[arch]?.[1] ?? arch) : (DARWIN_ARCH[arch]?.[1] ?? arch);
  return {
    python_version: `${major}.${minor}`,
    python_full_version: full,
    os_name: os === 'windows' ? 'nt' : 'posix',
    sys_platform: os === 'windows' ? 'win32' : os,
    platform_system: os === 'windows' ? 'Windows' : os === 'darwin' ? 'Darwin' : 'Linux',
    platform_machine: machine,
    platform_release: '',
    platform_version: '',
    platform_python_implementation: 'CPython',
    implementation_name: 'cpython',
    implementation_version: full,
  };
}
