import { readFile } from 'node:fs/promises';
import { AirlockError, describeError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fsutil.js';
import type { Envelope } from '../core/dsse.js';

/**
 * Where a bundle's signatures live: `NAME.airlock.custody`, for a single file and for every
 * volume of a set (`NAME.vol-001-of-003.airlock`), since all volumes share one manifest. A
 * set of one volume is written as `NAME.airlock` itself; a `NAME.vol-001-of-001.airlock`
 * from an older airlock still finds the same custody file.
 */
export function custodyPath(bundleFile: string): string {
  const set = /^(.*)\.vol-\d{3}-of-\d{3}\.airlock$/.exec(bundleFile);
  return set ? `${set[1]}.airlock.custody` : `${bundleFile}.custody`;
}

function isEnvelope(v: unknown): v is Envelope {
  const e = v as Envelope | null;
  return (
    !!e &&
    typeof e.payloadType === 'string' &&
    typeof e.payload === 'string' &&
    Array.isArray(e.signatures) &&
    e.signatures.every((s) => typeof s?.keyid === 'string' && typeof s?.sig === 'string')
  );
}

/** The envelopes of a custody file (JSON Lines, one DSSE envelope a line); none when it does not exist. */
export async function readCustody(path: string): Promise<Envelope[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new AirlockError('IO_ERROR', `${path}: ${describeError(e)}`);
  }
  const out: Envelope[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      throw new AirlockError('CUSTODY_INVALID', `${path}:${i + 1}: not a JSON envelope`);
    }
    if (!isEnvelope(doc)) throw new AirlockError('CUSTODY_INVALID', `${path}:${i + 1}: not a DSSE envelope`);
    out.push(doc);
  }
  return out;
}

/** Appends one envelope; the file is replaced whole, so a crash leaves the old or the new one. */
export async function appendCustody(path: string, env: Envelope): Promise<void> {
  const before = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return '';
    throw e;
  });
  await writeFileAtomic(path, `${before}${before && !before.endsWith('\n') ? '\n' : ''}${JSON.stringify(env)}\n`);
}
