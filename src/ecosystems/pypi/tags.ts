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
  /** `glibc-2.28` or `musl-1.2`; Linux only. Default glibc-2.17 (manylinux2014). */
  libc?: string;
}

const LINUX_ARCH: Record<string, string> = { amd64: 'x86_64', arm64: 'aarch64', '386': 'i686', ppc64le: 'ppc64le', s390x: 's390x', arm: 'armv7l' };
const WINDOWS_ARCH: Record<string, [string, string]> = { amd64: ['win_amd64', 'AMD64'], arm64: ['win_arm64', 'ARM64'], '386': ['win32', 'x86'] };
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
    const libc = /^(glibc|musl)-(\d+)\.(\d+)$/.exec(t.libc ?? 'glibc-2.17');
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

/** The marker environment of a CPython on this target. */
export function markerEnvironment(t: PythonTarget): MarkerEnvironment {
  const { os, arch, major, minor, full } = split(t);
  const machine = os === 'linux' ? (LINUX_ARCH[arch] ?? arch) : os === 'windows' ? (WINDOWS_ARCH[arch]?.[1] ?? arch) : (DARWIN_ARCH[arch]?.[1] ?? arch);
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
