/** `metadata` of a `conda` artifact: one package file of one channel's subdir. */
export interface CondaPackageMetadata {
  /** The served channel name (`conda-forge`, `pkgs/main`). */
  channel: string;
  subdir: string;
  filename: string;
  /** The repodata record's JSON text, byte for byte as upstream's repodata.json has it. */
  record: string;
}

export function readCondaMetadata(m: Record<string, unknown>): CondaPackageMetadata | undefined {
  return typeof m.channel === 'string' && typeof m.subdir === 'string' && typeof m.filename === 'string' && typeof m.record === 'string'
    ? (m as unknown as CondaPackageMetadata)
    : undefined;
}

/** The artifact key: what the package's URL is under `/conda/`. */
export function packageKey(channel: string, subdir: string, filename: string): string {
  return `${channel}/${subdir}/${filename}`;
}
