import { AirlockError } from '../../core/errors.js';
import type { Target } from '../../manifest/target.js';

/** The target's `os/arch` in conda's subdir names. */
const SUBDIRS: Record<string, string> = {
  'linux/amd64': 'linux-64',
  'linux/386': 'linux-32',
  'linux/arm64': 'linux-aarch64',
  'linux/arm/v7': 'linux-armv7l',
  'linux/arm/v6': 'linux-armv6l',
  'linux/ppc64le': 'linux-ppc64le',
  'linux/s390x': 'linux-s390x',
  'linux/riscv64': 'linux-riscv64',
  'darwin/amd64': 'osx-64',
  'darwin/arm64': 'osx-arm64',
  'windows/amd64': 'win-64',
  'windows/arm64': 'win-arm64',
  'windows/386': 'win-32',
};

/** Every subdir conda clients may ask a channel for (what the server answers, even when empty). */
export const KNOWN_SUBDIRS: ReadonlySet<string> = new Set([
  'noarch',
  ...Object.values(SUBDIRS),
  'linux-ppc64',
  'linux-loong64',
  'freebsd-64',
  'emscripten-wasm32',
  'wasi-wasm32',
  'zos-z',
]);

/** The target's platforms as conda subdirs (noarch not included: it goes with each). */
export function condaSubdirs(target: Target): string[] {
  const out = new Set<string>();
  for (const p of target.platforms) {
    const s = SUBDIRS[p];
    if (!s) throw new AirlockError('CONFIG_INVALID', `airlock.yaml: target platform ${p} has no conda subdir`);
    out.add(s);
  }
  return [...out];
}

/** One virtual package: what the closed side's machine provides (`__glibc 2.28`). */
export interface VirtualPackage {
  name: string;
  version: string;
  build: string;
}

const ARCHSPEC: Record<string, string> = {
  '64': 'x86_64',
  aarch64: 'aarch64',
  arm64: 'arm64',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  '32': 'x86',
  armv7l: 'armv7l',
  armv6l: 'armv6l',
  riscv64: 'riscv64',
};

/**
 * The virtual packages a machine of `subdir` provides, as pixi assumes by default (Linux 4.18,
 * glibc 2.28 or the target's libc, macOS 13) and overridden name by name by `overrides`.
 * The solver needs them: most Linux packages depend on `__glibc`.
 */
export function virtualPackages(subdir: string, target: Target, overrides: readonly string[] = []): VirtualPackage[] {
  const [os, arch = ''] = subdir.split('-');
  const out = new Map<string, VirtualPackage>();
  const add = (name: string, version: string, build = '0') => out.set(name, { name, version, build });
  if (os === 'linux' || os === 'osx' || os === 'freebsd') add('__unix', '0');
  if (os === 'linux') {
    add('__linux', '4.18');
    const libc = /^(glibc|musl)-(\d+\.\d+)$/.exec(target.libc ?? '');
    if (libc?.[1] === 'musl') add('__musl', libc[2]!);
    else add('__glibc', libc?.[2] ?? '2.28');
  }
  if (os === 'osx') add('__osx', '13.0');
  if (os === 'win') add('__win', '0');
  if (ARCHSPEC[arch]) add('__archspec', '1', ARCHSPEC[arch]);
  for (const o of overrides) {
    const [name, version, build] = o.split('=') as [string, string, string | undefined];
    add(name, version, build ?? '0');
  }
  return [...out.values()];
}
