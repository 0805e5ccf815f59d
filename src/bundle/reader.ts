import type { Readable, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { type Digest, HashingStream, isDigest } from '../core/digest.js';
import { AirlockError } from '../core/errors.js';
import {
  type BundleManifest,
  MANIFEST_MEDIA_TYPE,
  OCI_INDEX_MEDIA_TYPE,
  VOLUME_ANNOTATION,
  type VolumeEntry,
  manifestDigest,
  parseManifest,
  volumeContents,
} from './format.js';
import { type TarEntry, readTar } from './tar.js';

/** What the first entries of a volume say, before any blob is read. */
export interface VolumeInfo {
  bundleId: Digest;
  manifest: BundleManifest;
  manifestBytes: Buffer;
  volume: number;
}

export interface BlobTarget {
  stream: Writable;
  /** Called once the bytes are verified. */
  commit(): Promise<void>;
  /** Called when the bytes are wrong or reading failed. */
  abort(): Promise<void>;
}

/** Where the verified bytes of a volume go: a staging area on import, nowhere on verify. */
export interface BlobSink {
  /** Sees the manifest first; returning false skips the rest of the volume. */
  start(info: VolumeInfo): Promise<boolean>;
  /** A target for this blob's bytes, or undefined when the sink already holds it verified. */
  open(entry: VolumeEntry): Promise<BlobTarget | undefined>;
}

const MAX_METADATA = 64 << 20;
const BLOB_NAME = /^blobs\/sha256\/([0-9a-f]{64})$/;

async function readSmall(e: TarEntry, label: string): Promise<Buffer> {
  if (e.size > MAX_METADATA) throw new AirlockError('BUNDLE_INVALID', `${label}: ${e.name} is ${e.size} bytes, over the ${MAX_METADATA}-byte limit`);
  const parts: Buffer[] = [];
  for await (const c of e.stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

function parseJson(bytes: Buffer, label: string, name: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new AirlockError('BUNDLE_INVALID', `${label}: ${name} is not valid JSON`);
  }
}

interface IndexFacts {
  manifest: { digest: Digest; size: number };
  volume: number;
  volumes: number;
}

/** Finds the one bundle manifest in index.json and the volume annotation beside it. */
function readIndex(bytes: Buffer, label: string): IndexFacts {
  const bad = (msg: string): never => {
    throw new AirlockError('BUNDLE_INVALID', `${label}: index.json ${msg}`);
  };
  const idx = parseJson(bytes, label, 'index.json') as { schemaVersion?: unknown; mediaType?: unknown; manifests?: unknown };
  if (idx?.schemaVersion !== 2) bad('is not an OCI image index (schemaVersion must be 2)');
  if (idx.mediaType !== undefined && idx.mediaType !== OCI_INDEX_MEDIA_TYPE) bad(`has media type ${String(idx.mediaType)}`);
  if (!Array.isArray(idx.manifests)) bad('has no manifests list');
  const ours = (idx.manifests as Record<string, unknown>[]).filter((m) => m?.mediaType === MANIFEST_MEDIA_TYPE);
  if (ours.length === 0) {
    throw new AirlockError('BUNDLE_INVALID', `${label}: not an airlock bundle (index.json references no ${MANIFEST_MEDIA_TYPE})`);
  }
  if (ours.length > 1) bad('references more than one bundle manifest');
  const d = ours[0]!;
  if (!isDigest(d.digest) || typeof d.size !== 'number') bad('has a malformed bundle manifest descriptor');
  const ann = (d.annotations ?? {}) as Record<string, unknown>;
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(String(ann[VOLUME_ANNOTATION] ?? ''));
  if (!m) bad(`lacks the ${VOLUME_ANNOTATION} annotation`);
  const volume = Number(m![1]);
  const volumes = Number(m![2]);
  if (volume < 1 || volume > volumes) bad(`says volume ${volume} of ${volumes}`);
  return { manifest: { digest: d.digest as Digest, size: d.size as number }, volume, volumes };
}

/**
 * Reads one volume of an untrusted bundle as a stream: layout metadata first (checked against
 * each other), then every blob hashed on its way to the sink. Nothing reaches the sink's final
 * place unverified; any surprise (an extra, missing, resized or corrupt blob) throws.
 */
export async function readVolume(input: Readable, label: string, sink: BlobSink): Promise<VolumeInfo & { skipped: boolean }> {
  const entries = readTar(input, { label })[Symbol.asyncIterator]();
  const next = async (want: string): Promise<TarEntry> => {
    for (;;) {
      const r = await entries.next();
      if (r.done) throw new AirlockError('BUNDLE_INVALID', `${label}: archive ends before ${want}`);
      if (r.value.type === 'directory') {
        if (r.value.name !== 'blobs/' && r.value.name !== 'blobs/sha256/') {
          throw new AirlockError('BUNDLE_INVALID', `${label}: unexpected directory ${r.value.name}`);
        }
        continue;
      }
      return r.value;
    }
  };
  const expectName = async (name: string): Promise<TarEntry> => {
    const e = await next(name);
    if (e.name !== name) {
      throw new AirlockError('BUNDLE_INVALID', `${label}: expected ${name} as the next entry, found ${e.name} (not an airlock bundle, or damaged)`);
    }
    return e;
  };

  const layout = parseJson(await readSmall(await expectName('oci-layout'), label), label, 'oci-layout') as { imageLayoutVersion?: unknown };
  if (layout?.imageLayoutVersion !== '1.0.0') {
    throw new AirlockError('BUNDLE_VERSION', `${label}: OCI layout version ${String(layout?.imageLayoutVersion)} is not supported`);
  }
  const index = readIndex(await readSmall(await expectName('index.json'), label), label);
  const manifestBytes = await readSmall(await expectName(`blobs/sha256/${index.manifest.digest.slice(7)}`), label);
  const bundleId = manifestDigest(manifestBytes);
  if (bundleId !== index.manifest.digest || manifestBytes.length !== index.manifest.size) {
    throw new AirlockError('DIGEST_MISMATCH', `${label}: the bundle manifest is corrupt: index.json names ${index.manifest.digest}, content hashes to ${bundleId}`);
  }
  const manifest = parseManifest(manifestBytes, label);
  if (manifest.volumes !== index.volumes) {
    throw new AirlockError('BUNDLE_INVALID', `${label}: index.json says ${index.volumes} volumes, the manifest says ${manifest.volumes}`);
  }
  const info: VolumeInfo = { bundleId, manifest, manifestBytes, volume: index.volume };
  if (!(await sink.start(info))) {
    await entries.return?.(undefined);
    input.destroy();
    return { ...info, skipped: true };
  }

  const expected = new Map(volumeContents(manifest, index.volume).map((e) => [e.digest, e]));
  const owners = ownersOf(manifest);
  for (;;) {
    const r = await entries.next();
    if (r.done) break;
    const e = r.value;
    if (e.type === 'directory') throw new AirlockError('BUNDLE_INVALID', `${label}: unexpected directory ${e.name}`);
    const m = BLOB_NAME.exec(e.name);
    const want = m ? expected.get(`sha256:${m[1]}`) : undefined;
    if (!want) {
      throw new AirlockError('BUNDLE_INVALID', `${label}: entry ${e.name} is not listed for volume ${index.volume} in the bundle manifest`);
    }
    const what = `blob ${want.digest} (${owners.get(want.source) ?? 'unknown artifact'})`;
    if (e.size !== want.size) {
      throw new AirlockError('SIZE_MISMATCH', `${label}: ${what} is ${e.size} bytes, the manifest says ${want.size}`);
    }
    await copyVerified(e, want, sink, `${label}: ${what}`);
    expected.delete(want.digest);
  }
  const missing = [...expected.values()][0];
  if (missing) {
    throw new AirlockError(
      'BUNDLE_INVALID',
      `${label}: blob ${missing.digest} (${owners.get(missing.source) ?? 'unknown artifact'}) is listed for volume ${index.volume} but missing (${expected.size} missing in all)`,
    );
  }
  return { ...info, skipped: false };
}

async function copyVerified(e: TarEntry, want: VolumeEntry, sink: BlobSink, what: string): Promise<void> {
  const target = await sink.open(want);
  const h = new HashingStream();
  if (!target) {
    // Already held verified (a resumed import): drain without hashing.
    e.stream.resume();
    await finished(e.stream);
    return;
  }
  try {
    await pipeline(e.stream, h, target.stream);
  } catch (err) {
    await target.abort();
    throw err;
  }
  if (h.digest() !== want.digest) {
    await target.abort();
    throw new AirlockError('DIGEST_MISMATCH', `${what} is corrupt: expected ${want.digest}, got ${h.digest()}`);
  }
  await target.commit();
}

/** For messages: which artifact each blob belongs to. */
function ownersOf(m: BundleManifest): Map<Digest, string> {
  const out = new Map<Digest, string>();
  for (const a of m.artifacts) for (const b of a.blobs) if (!out.has(b.digest)) out.set(b.digest, `${a.ecosystem}:${a.key}`);
  return out;
}
