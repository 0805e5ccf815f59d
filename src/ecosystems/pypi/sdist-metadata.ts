import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { AirlockError, isAirlockError } from '../../core/errors.js';
import { readTar } from '../../core/tar.js';
import { type RangeReader, readZipMember } from './wheel-metadata.js';

const MAX_PKG_INFO = 1 << 20;

/**
 * The PKG-INFO of a `.tar.gz` sdist (`<name>-<version>/PKG-INFO`), read as a stream with the
 * same hostile-archive name and size rules as bundles, under the upstream tar policy (PAX, as
 * setuptools writes, and GNU headers; links skipped). Only core metadata 2.2+ whose Requires-Dist is not
 * dynamic (PEP 643) says what the sdist needs without building it; anything else is refused
 * rather than guessed.
 */
export async function readSdistMetadata(source: Readable, label: string): Promise<Buffer> {
  let found: Buffer | undefined;
  try {
    for await (const e of readTar(source.pipe(createGunzip()), { label, policy: 'upstream' })) {
      if (e.type === 'file' && /^[^/]+\/PKG-INFO$/.test(e.name) && !found) {
        if (e.size > MAX_PKG_INFO) throw new AirlockError('UPSTREAM_INVALID', `${label}: PKG-INFO is ${e.size} bytes`);
        const parts: Buffer[] = [];
        for await (const c of e.stream) parts.push(c as Buffer);
        found = Buffer.concat(parts);
      } else e.stream.resume();
    }
  } catch (e) {
    if (isAirlockError(e))
      throw new AirlockError('UPSTREAM_INVALID', `${label}: cannot read this sdist (${e.message.replace(`${label}: `, '')})`);
    throw new AirlockError('UPSTREAM_INVALID', `${label}: not a gzip-compressed tar (${(e as Error).message})`);
  }
  if (!found) throw new AirlockError('UPSTREAM_INVALID', `${label}: no PKG-INFO in the sdist`);
  return trusted(found, label);
}

/** The PKG-INFO of a legacy `.zip` sdist, read by ranges, under the same rule. */
export async function readZipSdistMetadata(read: RangeReader, size: number, label: string): Promise<Buffer> {
  return trusted(await readZipMember(read, size, label, /^[^/]+\/PKG-INFO$/, '<name>-<version>/PKG-INFO'), label);
}

function trusted(found: Buffer, label: string): Buffer {
  const head = found.toString('utf8').split(/\r?\n\r?\n/)[0] ?? '';
  const version = /^Metadata-Version:\s*(\d+)\.(\d+)/im.exec(head);
  const dynamic = [...head.matchAll(/^Dynamic:\s*(.+)$/gim)].map((m) => m[1]!.trim().toLowerCase());
  if (!version || Number(version[1]) < 2 || (Number(version[1]) === 2 && Number(version[2]) < 2) || dynamic.includes('requires-dist')) {
    throw new AirlockError(
      'UPSTREAM_INVALID',
      `${label}: its dependencies are only known by building it (core metadata ${version ? `${version[1]}.${version[2]}` : '?'}${dynamic.includes('requires-dist') ? ', Requires-Dist dynamic' : ''}); pin its dependencies yourself or use a wheel`,
    );
  }
  return found;
}
