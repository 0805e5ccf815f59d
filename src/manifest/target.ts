import { z } from 'zod';

/**
 * The platforms airlock can carry for, in OCI's `os/arch[/variant]` words. Every ecosystem
 * maps these (wheel tags, npm os/cpu, conda subdirs, image platforms); a name outside this
 * list would match nothing and silently drop every platform-specific build.
 */
export const PLATFORMS = [
  'linux/amd64',
  'linux/arm64',
  'linux/arm/v7',
  'linux/arm/v6',
  'linux/386',
  'linux/ppc64le',
  'linux/s390x',
  'linux/riscv64',
  'darwin/amd64',
  'darwin/arm64',
  'windows/amd64',
  'windows/arm64',
  'windows/386',
] as const;

const OS_ALIASES: Record<string, string> = { macos: 'darwin', osx: 'darwin', mac: 'darwin', win: 'windows', win32: 'windows' };
/** The names uname, Python, npm, Debian and Go use for the same machines. */
const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  x64: 'amd64',
  aarch64: 'arm64',
  'arm64/v8': 'arm64',
  i386: '386',
  i686: '386',
  x86: '386',
  ia32: '386',
  arm: 'arm/v7',
  armhf: 'arm/v7',
  armv7: 'arm/v7',
  armv7l: 'arm/v7',
  armv6: 'arm/v6',
  armv6l: 'arm/v6',
  ppc64el: 'ppc64le',
};

/** `linux/x86_64` → `linux/amd64`; undefined for a name no alias or platform fits. */
export function normalizePlatform(text: string): string | undefined {
  const slash = text.indexOf('/');
  if (slash <= 0) return undefined;
  const os = text.slice(0, slash).toLowerCase();
  const arch = text.slice(slash + 1).toLowerCase();
  const name = `${OS_ALIASES[os] ?? os}/${ARCH_ALIASES[arch] ?? arch}`;
  return (PLATFORMS as readonly string[]).includes(name) ? name : undefined;
}

const platform = z
  .string()
  .regex(/^[A-Za-z0-9_-]+\/[A-Za-z0-9_/-]+$/, 'expected os/arch such as linux/amd64')
  .transform((text, ctx) => {
    const name = normalizePlatform(text);
    if (name) return name;
    ctx.addIssue({
      code: 'custom',
      message: `"${text.slice(0, 40)}" is not a platform airlock knows (known: ${PLATFORMS.join(', ')}; aliases such as linux/x86_64 and linux/aarch64 are accepted)`,
    });
    return z.NEVER;
  });

/**
 * The closed side's platforms in one vocabulary; each ecosystem maps it to its own terms
 * (wheel tags, npm os/cpu, OCI platforms, conda subdirs). Never the machine airlock runs on.
 */
export const targetSchema = z
  .object({
    platforms: z
      .array(platform)
      .transform((list) => [...new Set(list)])
      .default(['linux/amd64']),
    python: z
      .array(z.string().regex(/^3\.\d+(\.\d+)?$/, 'expected a Python version such as "3.12" (or "3.12.4" to pin the patch level)'))
      .default([]),
    libc: z
      .string()
      .regex(/^(glibc|musl)-\d+\.\d+$/, 'expected glibc-X.Y or musl-X.Y')
      .optional(),
  })
  .strict();

export type Target = z.infer<typeof targetSchema>;
