/** OCI platforms as image indexes describe them, matched against the closed side's targets. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** `linux/arm64`, `linux/arm/v7` → a platform; the target vocabulary airlock uses everywhere. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant] = text.split('/');
  if (!os || !architecture) throw new Error(`"${text}" is not a platform (expected os/arch[/variant])`);
  return { os, architecture, ...(variant ? { variant } : {}) };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
}

/** Variants a platform implies when it names none, as containerd's platform matcher does. */
const DEFAULT_VARIANT: Record<string, string> = { arm64: 'v8', arm: 'v7' };

/**
 * Whether an index entry's platform serves the wanted one. A missing variant on either side
 * matches the architecture's default (arm64 → v8), so `linux/arm64` finds `linux/arm64/v8`.
 */
export function platformMatches(have: Platform, want: Platform): boolean {
  if (have.os !== want.os || have.architecture !== want.architecture) return false;
  const norm = (v: string | undefined) => v ?? DEFAULT_VARIANT[have.architecture];
  return norm(have.variant) === norm(want.variant);
}
