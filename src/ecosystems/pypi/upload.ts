import multipart from '@fastify/multipart';
import { createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ArtifactRecord } from '../../core/artifact.js';
import type { BlobInfo } from '../../core/blobstore.js';
import { type Digest, HashingStream, digestOf, isHex64 } from '../../core/digest.js';
import { isAirlockError } from '../../core/errors.js';
import { crashPoint } from '../../core/faults.js';
import { tempPathFor } from '../../core/fsutil.js';
import { audited } from '../../core/metadata.js';
import type { ServeContext } from '../ecosystem.js';
import { sendError } from '../http/errors.js';
import { parseCoreMetadata } from './core-metadata.js';
import { parseDistFilename } from './filename.js';
import { normalizeName } from './names.js';
import type { PypiFileMetadata } from './record.js';
import { readWheelMetadata } from './wheel-metadata.js';

/** The largest distribution accepted by upload (the largest wheels on public indexes are a few GiB). */
const MAX_UPLOAD = 20 * 2 ** 30;

export async function registerUploadParser(app: FastifyInstance): Promise<void> {
  await app.register(multipart, { limits: { fileSize: MAX_UPLOAD, files: 2, fields: 100, fieldSize: 1 << 20 } });
}

interface Received {
  filename: string;
  path: string;
  blob: BlobInfo;
}

/** Streams the `content` part to a temp file beside the store, hashing it; nothing enters the store yet. */
async function receive(req: FastifyRequest, dir: string): Promise<{ fields: Map<string, string>; file?: Received }> {
  const fields = new Map<string, string>();
  let file: Received | undefined;
  for await (const part of req.parts()) {
    if (part.type !== 'file') {
      fields.set(part.fieldname, String(part.value));
      continue;
    }
    if (part.fieldname !== 'content' || file) {
      part.file.resume();
      continue;
    }
    const path = tempPathFor(join(dir, 'x'));
    const h = new HashingStream();
    await pipeline(part.file, h, createWriteStream(path, { flags: 'wx', highWaterMark: 1 << 20 }));
    file = { filename: part.filename, path, blob: { digest: h.digest(), size: h.size } };
    if (part.file.truncated) throw Object.assign(new Error(`upload is larger than ${MAX_UPLOAD} bytes`), { statusCode: 413 });
  }
  return file ? { fields, file } : { fields };
}

async function wheelMetadata(path: string, size: number, label: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    return await readWheelMetadata(
      async (start, end) => {
        const buf = Buffer.alloc(end - start + 1);
        await fh.read(buf, 0, buf.length, start);
        return buf;
      },
      size,
      label,
    );
  } finally {
    await fh.close();
  }
}

class Rejected extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** PEP 508's project name. */
const PROJECT_NAME = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

/** Checks the form against the file and builds the artifact, with the core metadata blob for wheels. */
async function describe(fields: Map<string, string>, f: Received): Promise<{ record: ArtifactRecord; coreMetadata?: Buffer }> {
  if (fields.get(':action') !== 'file_upload') throw new Rejected(400, `unsupported :action ${fields.get(':action') ?? '(none)'}`);
  const dist = parseDistFilename(f.filename);
  if (!dist) throw new Rejected(400, `${f.filename}: not a wheel or sdist filename`);
  const formName = fields.get('name');
  // The name ends up in index pages and paths; only what PEP 508 allows may get that far.
  for (const n of [formName, dist.name]) {
    if (n !== undefined && !PROJECT_NAME.test(n))
      throw new Rejected(
        400,
        `${JSON.stringify(n.slice(0, 80))} is not a valid project name (PEP 508: letters, digits, . _ -, beginning and ending with a letter or digit)`,
      );
  }
  if (!formName || normalizeName(formName) !== dist.name)
    throw new Rejected(400, `${f.filename}: the form names project ${formName ?? '(none)'}`);
  const claimed = fields.get('sha256_digest');
  if (claimed && (!isHex64(claimed.toLowerCase()) || `sha256:${claimed.toLowerCase()}` !== f.blob.digest)) {
    throw new Rejected(400, `${f.filename}: sha256_digest ${claimed} does not match the uploaded bytes (${f.blob.digest})`);
  }
  let requiresPython = fields.get('requires_python') || undefined;
  let coreMetadata: Buffer | undefined;
  if (dist.kind === 'wheel') {
    try {
      coreMetadata = await wheelMetadata(f.path, f.blob.size, f.filename);
    } catch (e) {
      throw new Rejected(400, isAirlockError(e) ? e.message : `${f.filename}: unreadable wheel`);
    }
    const meta = parseCoreMetadata(coreMetadata.toString('utf8'));
    if (!meta) throw new Rejected(400, `${f.filename}: METADATA lacks Name or Version`);
    if (normalizeName(meta.name) !== dist.name || meta.version !== dist.version) {
      throw new Rejected(400, `${f.filename}: METADATA says ${meta.name} ${meta.version}`);
    }
    requiresPython = meta.requiresPython;
  }
  const metaBlob = coreMetadata ? { digest: digestOf(coreMetadata), size: coreMetadata.length } : undefined;
  const metadata: PypiFileMetadata = {
    filename: f.filename,
    yanked: false,
    // PEP 700 asks for microseconds: yyyy-mm-ddThh:mm:ss.ffffffZ.
    uploadTime: new Date().toISOString().replace(/Z$/, '000Z'),
    ...(requiresPython ? { requiresPython } : {}),
    ...(metaBlob ? { coreMetadata: metaBlob } : {}),
  };
  return {
    record: {
      ecosystem: 'pypi',
      key: f.filename,
      name: dist.name,
      version: dist.version,
      digest: f.blob.digest,
      size: f.blob.size,
      source: 'upload',
      metadata: metadata as unknown as Record<string, unknown>,
      blobs: [f.blob, ...(metaBlob ? [metaBlob] : [])],
    },
    ...(coreMetadata ? { coreMetadata } : {}),
  };
}

/**
 * twine's legacy upload API. A file that exists answers 409, which is what
 * `twine upload --skip-existing` looks for; this URL never redirects.
 */
export async function handleUpload(req: FastifyRequest, reply: FastifyReply, ctx: ServeContext): Promise<FastifyReply> {
  if (!req.isMultipart()) return sendError(reply, 400, 'BAD_REQUEST', 'expected multipart/form-data');
  const dir = await ctx.store.blobs.tempDir();
  let received: Received | undefined;
  try {
    const { fields, file } = await receive(req, dir);
    received = file;
    if (!file) return sendError(reply, 400, 'BAD_REQUEST', 'no file in the "content" field');
    const { record, coreMetadata } = await describe(fields, file);
    return await ctx.store.withWriteLock('upload', async () => {
      if (await ctx.store.meta.getArtifact('pypi', record.key)) {
        return sendError(reply, 409, 'CONFLICT', `File already exists: ${record.key}`);
      }
      await ctx.store.blobs.adopt(file.path, file.blob);
      if (coreMetadata)
        await ctx.store.blobs.put(Readable.from([coreMetadata]), `${record.key}.metadata`, { digest: record.blobs[1]!.digest as Digest });
      const actor = await ctx.actor(req.headers.authorization);
      await audited(
        ctx.store.meta,
        { actor, action: 'pypi.upload', subject: record.key, outcome: 'stored', detail: { digest: record.digest, size: record.size } },
        (tx, because) => tx.putArtifacts([record], null, because),
      );
      crashPoint('pypi:after-commit');
      return reply.code(200).type('text/plain').send('OK\n');
    });
  } catch (e) {
    if (e instanceof Rejected) return sendError(reply, e.status, e.status === 409 ? 'CONFLICT' : 'BAD_REQUEST', e.message);
    throw e;
  } finally {
    if (received) await rm(received.path, { force: true });
  }
}
