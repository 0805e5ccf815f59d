/** `metadata` of an `npm` artifact: one version of a package. */
export interface NpmVersionMetadata {
  /** The version document (the package.json as published, with `dist`), byte-for-byte meaning kept. */
  manifest: Record<string, unknown>;
  /** `name-1.0.0.tgz` */
  filename: string;
  /** When it was published (ISO 8601). */
  time: string;
}

export function readNpmMetadata(m: Record<string, unknown>): NpmVersionMetadata | undefined {
  if (!m.manifest || typeof m.manifest !== 'object' || typeof m.filename !== 'string') return undefined;
  return m as unknown as NpmVersionMetadata;
}
