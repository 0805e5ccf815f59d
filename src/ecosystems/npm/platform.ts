import type { Target } from '../../manifest/target.js';

/** A target platform in npm's words (`process.platform`, `process.arch`, libc family). */
export interface NpmPlatform {
  os: string;
  cpu: string;
  libc?: 'glibc' | 'musl';
}

const OS: Record<string, string> = { windows: 'win32' };
const CPU: Record<string, string> = {
  amd64: 'x64',
  '386': 'ia32',
  arm64: 'arm64',
  arm: 'arm',
  ppc64le: 'ppc64',
  s390x: 's390x',
  riscv64: 'riscv64',
};

export function npmPlatforms(target: Target): NpmPlatform[] {
  return target.platforms.map((p) => {
    const [os, arch] = p.split('/') as [string, string];
    const family = target.libc?.startsWith('musl') ? 'musl' : 'glibc';
    return { os: OS[os] ?? os, cpu: CPU[arch] ?? arch, ...(os === 'linux' ? { libc: family } : {}) };
  });
}

/** npm's rule for `os`/`cpu`/`libc` lists: names allow, `!name` excludes, an empty list allows all. */
function allowed(list: unknown, value: string | undefined): boolean {
  if (!Array.isArray(list) || list.length === 0) return true;
  if (value === undefined) return false;
  const items = list.map(String);
  if (items.includes(`!${value}`)) return false;
  const positive = items.filter((x) => !x.startsWith('!'));
  return positive.length === 0 || positive.includes(value);
}

/** Whether a package with these fields installs on the platform (what npm's EBADPLATFORM check decides). */
export function fitsPlatform(pkg: { os?: unknown; cpu?: unknown; libc?: unknown }, p: NpmPlatform): boolean {
  return allowed(pkg.os, p.os) && allowed(pkg.cpu, p.cpu) && allowed(pkg.libc, p.libc);
}
