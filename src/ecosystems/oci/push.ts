import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ArtifactRecord, StoredArtifact } from '../../core/artifact.js';
import { type UploadArea, readBlobBytes } from '../../core/blobstore.js';
import { type Digest, digestOf, isSha512Digest } from '../../core/digest.js';
import { crashPoint } from '../../core/faults.js';
import { audited } from '../../core/metadata.js';
import type { Store } from '../../core/store.js';
import type { ServeContext } from '../ecosystem.js';
import { sendOciError } from './errors.js';
import { ManifestError, type OciDigest, type ParsedManifest, isOciDigest, parseManifest } from './manifest.js';
import { isForeignLayer, isManifestType } from './media-types.js';
import { type OciImageMetadata, type StoredManifest, storedManifest } from './record.js';
import { isTag } from './reference.js';
import { hashUpload, nameBySha512, sha512Of } from './sha512.js';
import type { RegistryView } from './view.js';

const MAX_MANIFEST = 4 << 20;
const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** An upload session nothing has written to for a day is abandoned (distribution purges after a week). */
const ABANDONED_MS = 24 * 3600_000;
/** How often starting an upload looks for abandoned ones. */
const SWEEP_EVERY_MS = 3600_000;

/** The bundles some artifacts came in, sorted; empty for content pushed here. */
function bundlesOf(rows: readonly StoredArtifact[]): string[] {
  return [...new Set(rows.flatMap((a) => (a.bundleId ? [a.bundleId] : [])))].sort();
}

type Req = FastifyRequest<{ Querystring: Record<string, string | undefined> }>;

/**
 * The push side of the distribution spec. Upload sessions live in the blob store's upload
 * area, named by a random id, so the server holds no state of its own: any replica sharing
 * the store can continue one.
 */
export class Pusher {
  constructor(
    private readonly store: Store,
    private readonly view: () => Promise<RegistryView>,
    private readonly actor: (header: string | undefined) => Promise<string>,
    private readonly token: ServeContext['token'],
  ) {}

  /**
   * Content that came in a bundle was custody-checked on the way in; a publisher's delete would
   * quietly undo that, so only an admin may remove it. Sends the refusal and returns true when refused.
   */
  private async refuseBundleDelete(req: Req, reply: FastifyReply, what: string, rows: readonly StoredArtifact[]): Promise<boolean> {
    const bundles = bundlesOf(rows);
    if (bundles.length === 0 || (await this.token(req.headers.authorization))?.role === 'admin') return false;
    sendOciError(reply, 'DENIED', `${what} came in bundle ${bundles.join(', ')}; only an admin token may delete it`, { bundles });
    return true;
  }

  private lastSweep = 0;

  /** Removes sessions clients started and never finished, so scratch space cannot fill up with them. */
  private async sweep(area: UploadArea): Promise<void> {
    const now = Date.now();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    await area.sweep(ABANDONED_MS);
  }

  private uploads(): Promise<UploadArea> {
    return this.store.blobs.uploads('oci');
  }

  /** The session's area and its size so far, or undefined when there is no such session. */
  private async session(id: string): Promise<{ area: UploadArea; size: number } | undefined> {
    if (!UPLOAD_ID.test(id)) return undefined;
    const area = await this.uploads();
    const size = await area.size(id);
    return size === undefined ? undefined : { area, size };
  }

  private accepted(reply: FastifyReply, name: string, id: string, size: number): FastifyReply {
    return reply
      .code(202)
      .header('location', `/v2/${name}/blobs/uploads/${id}`)
      .header('range', `0-${Math.max(0, size - 1)}`)
      .header('docker-upload-uuid', id)
      .header('content-length', 0)
      .send();
  }

  private created(reply: FastifyReply, name: string, digest: OciDigest): FastifyReply {
    return reply
      .code(201)
      .header('location', `/v2/${name}/blobs/${digest}`)
      .header('docker-content-digest', digest)
      .header('content-length', 0)
      .send();
  }

  /**
   * Hashes a finished upload and moves it into the store when it is what the client said. A
   * sha512 upload is stored under its sha256 like any other, with the sha512 as a second name.
   */
  private async finish(
    req: Req,
    reply: FastifyReply,
    name: string,
    area: UploadArea,
    id: string,
    expected: string | undefined,
  ): Promise<FastifyReply> {
    if (!expected || !isOciDigest(expected)) {
      await area.discard(id);
      return sendOciError(
        reply,
        'DIGEST_INVALID',
        `the upload must end with ?digest=sha256:<hex> or sha512:<hex>, got "${expected ?? ''}"`,
      );
    }
    if (isSha512Digest(expected)) {
      const { sha512, ...blob } = await hashUpload(area.read(id), true);
      if (sha512 !== expected) {
        await area.discard(id);
        return sendOciError(reply, 'DIGEST_INVALID', `the upload hashes to ${sha512}, not ${expected}`, { expected, actual: sha512 });
      }
      const actor = await this.actor(req.headers.authorization);
      await this.store.withWriteLock('push', async () => {
        await area.commit(id, blob);
        await audited(
          this.store.meta,
          { actor, action: 'oci.blob', subject: `${name}@${expected}`, outcome: 'named', detail: { digest: blob.digest } },
          (tx, because) => nameBySha512(tx, expected, blob.digest, because),
        );
      });
      return this.created(reply, name, expected);
    }
    const blob = await hashUpload(area.read(id), false);
    if (blob.digest !== expected) {
      await area.discard(id);
      return sendOciError(reply, 'DIGEST_INVALID', `the upload hashes to ${blob.digest}, not ${expected}`, {
        expected,
        actual: blob.digest,
      });
    }
    await this.store.withWriteLock('push', () => area.commit(id, blob));
    return this.created(reply, name, blob.digest);
  }

  /** POST /v2/<name>/blobs/uploads/: a session, a monolithic upload (?digest=), or a mount (?mount=&from=). */
  async start(req: Req, reply: FastifyReply, name: string): Promise<FastifyReply> {
    const { mount, digest } = req.query;
    // A mount succeeds for any blob the store holds: readers may read every repository, so
    // there is nothing to hide between them.
    const mounted = mount && isOciDigest(mount) ? (await this.view()).address(mount) : undefined;
    if (mount && mounted && (await this.store.blobs.stat(mounted))) {
      req.raw.resume();
      return this.created(reply, name, mount as OciDigest);
    }
    const area = await this.uploads();
    await this.sweep(area);
    const id = randomUUID();
    await area.append(id, req.raw);
    if (digest !== undefined) return this.finish(req, reply, name, area, id, digest);
    return this.accepted(reply, name, id, 0);
  }

  /** PATCH: a chunk at the offset Content-Range names, or (without it) a stream to the end. */
  async patch(req: Req, reply: FastifyReply, name: string, id: string): Promise<FastifyReply> {
    const session = await this.session(id);
    if (!session) {
      req.raw.resume();
      return sendOciError(reply, 'BLOB_UPLOAD_UNKNOWN', `no upload ${id}`);
    }
    if (this.outOfOrder(req, reply, name, id, session.size)) return reply;
    await session.area.append(id, req.raw);
    return this.accepted(reply, name, id, (await session.area.size(id)) ?? 0);
  }

  /**
   * A chunk whose Content-Range does not start where the session ends is refused with 416 and
   * the session's current Range; the session is kept, so the client can ask where it stands
   * (GET) and go on from there.
   */
  private outOfOrder(req: Req, reply: FastifyReply, name: string, id: string, have: number): boolean {
    const range = req.headers['content-range'];
    if (range === undefined) return false;
    const m = /^(?:bytes )?(\d+)-(\d+)$/.exec(range);
    const length = Number(req.headers['content-length']);
    if (
      m &&
      Number(m[1]) === have &&
      Number(m[2]) >= Number(m[1]) &&
      (!Number.isFinite(length) || length === Number(m[2]) - Number(m[1]) + 1)
    )
      return false;
    req.raw.resume();
    reply.header('location', `/v2/${name}/blobs/uploads/${id}`).header('range', `0-${Math.max(0, have - 1)}`);
    sendOciError(reply, 'BLOB_UPLOAD_INVALID', `upload ${id}: chunk ${range} does not continue the ${have} bytes received`, undefined, 416);
    return true;
  }

  /** PUT: the last chunk (optional) and the digest; the blob enters the store only if it matches. */
  async put(req: Req, reply: FastifyReply, name: string, id: string): Promise<FastifyReply> {
    const session = await this.session(id);
    if (!session) {
      req.raw.resume();
      return sendOciError(reply, 'BLOB_UPLOAD_UNKNOWN', `no upload ${id}`);
    }
    if (this.outOfOrder(req, reply, name, id, session.size)) return reply;
    await session.area.append(id, req.raw);
    return this.finish(req, reply, name, session.area, id, req.query.digest);
  }

  async status(reply: FastifyReply, name: string, id: string): Promise<FastifyReply> {
    const session = await this.session(id);
    if (!session) return sendOciError(reply, 'BLOB_UPLOAD_UNKNOWN', `no upload ${id}`);
    const size = session.size;
    return reply
      .code(204)
      .header('location', `/v2/${name}/blobs/uploads/${id}`)
      .header('range', `0-${Math.max(0, size - 1)}`)
      .header('docker-upload-uuid', id)
      .send();
  }

  async cancel(reply: FastifyReply, id: string): Promise<FastifyReply> {
    const session = await this.session(id);
    if (!session) return sendOciError(reply, 'BLOB_UPLOAD_UNKNOWN', `no upload ${id}`);
    await session.area.discard(id);
    return reply.code(204).send();
  }

  /**
   * Every blob a manifest needs, from the store (by sha256, whatever name the manifest uses),
   * but foreign layers, which registries never hold. A child manifest of an index is read for
   * its own blobs, and recorded from its own bytes.
   */
  private async needs(
    parsed: ParsedManifest<OciDigest>,
  ): Promise<{ blobs: ArtifactRecord['blobs']; children: StoredManifest[] } | { missing: OciDigest }> {
    const view = await this.view();
    const blobs: ArtifactRecord['blobs'] = [];
    const children: StoredManifest[] = [];
    const add = async (d: { digest: OciDigest; size: number; mediaType: string }): Promise<Digest | undefined> => {
      const digest = view.address(d.digest);
      const have = digest && (await this.store.blobs.stat(digest));
      if (!digest || !have || have.size !== d.size) return undefined;
      blobs.push({ digest, size: d.size, mediaType: d.mediaType });
      return digest;
    };
    const addImage = async (m: Extract<ParsedManifest<OciDigest>, { kind: 'image' }>): Promise<OciDigest | undefined> => {
      for (const d of [m.config, ...m.layers.filter((l) => !isForeignLayer(l.mediaType))]) if (!(await add(d))) return d.digest;
      return undefined;
    };
    if (parsed.kind === 'image') {
      const missing = await addImage(parsed);
      return missing ? { missing } : { blobs, children };
    }
    for (const d of parsed.manifests) {
      const digest = await add(d);
      if (!digest) return { missing: d.digest };
      let child: ParsedManifest<OciDigest>;
      try {
        child = parseManifest(await readBlobBytes(this.store.blobs, digest), d.mediaType, { sha512: true });
      } catch {
        return { missing: d.digest };
      }
      children.push(storedManifest(digest, d.size, child));
      const missing = child.kind === 'image' ? await addImage(child) : undefined;
      if (missing) return { missing };
    }
    return { blobs, children };
  }

  /** PUT /v2/<name>/manifests/<tag|digest>: checked, stored byte for byte, one artifact per tag or digest. */
  async putManifest(req: Req, reply: FastifyReply, name: string, reference: string): Promise<FastifyReply> {
    const byDigest = isOciDigest(reference);
    if (!byDigest && !isTag(reference)) {
      req.raw.resume();
      return sendOciError(reply, 'TAG_INVALID', `"${reference}" is neither a tag nor a sha256 or sha512 digest`, undefined, 400);
    }
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of req.raw) {
      n += (c as Buffer).length;
      if (n > MAX_MANIFEST) return sendOciError(reply, 'SIZE_INVALID', `a manifest may be at most ${MAX_MANIFEST} bytes`);
      parts.push(c as Buffer);
    }
    const bytes = Buffer.concat(parts);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
    let parsed: ParsedManifest<OciDigest>;
    try {
      parsed = parseManifest(bytes, contentType, { sha512: true });
    } catch (e) {
      return sendOciError(reply, 'MANIFEST_INVALID', e instanceof ManifestError ? e.message : 'unreadable manifest');
    }
    if (isManifestType(contentType) && contentType !== parsed.mediaType) {
      return sendOciError(reply, 'MANIFEST_INVALID', `Content-Type ${contentType} but the manifest says ${parsed.mediaType}`);
    }
    const digest = digestOf(bytes);
    const sha512 = isSha512Digest(reference) ? sha512Of(bytes) : undefined;
    const named: OciDigest = sha512 ?? digest;
    if (byDigest && reference !== named) return sendOciError(reply, 'DIGEST_INVALID', `the manifest hashes to ${named}, not ${reference}`);
    const needs = await this.needs(parsed);
    if ('missing' in needs)
      return sendOciError(reply, 'MANIFEST_BLOB_UNKNOWN', `blob unknown to registry: ${needs.missing}`, { digest: needs.missing });

    const top = storedManifest(digest, bytes.length, parsed);
    const tag = byDigest ? undefined : reference;
    const metadata: OciImageMetadata = {
      refName: tag ? `${name}:${tag}` : `${name}@${digest}`,
      ...(tag ? { tag } : {}),
      platforms: [],
      manifests: [top, ...needs.children],
    };
    const record: ArtifactRecord = {
      ecosystem: 'oci',
      key: `${tag ? `${name}:${tag}` : name}@${digest}`,
      name,
      version: tag ?? digest,
      digest,
      size: bytes.length,
      mediaType: parsed.mediaType,
      metadata: metadata as unknown as Record<string, unknown>,
      blobs: [{ digest, size: bytes.length, mediaType: parsed.mediaType }, ...needs.blobs],
    };
    const actor = await this.actor(req.headers.authorization);
    await this.store.withWriteLock('push', async () => {
      await this.store.blobs.put(Readable.from([bytes]), `oci:${record.key}`, { digest, size: bytes.length });
      await audited(
        this.store.meta,
        { actor, action: 'oci.push', subject: record.key, outcome: 'stored', detail: { mediaType: parsed.mediaType, size: bytes.length } },
        async (tx, because) => {
          await tx.putArtifacts([record], null, because);
          if (sha512) await nameBySha512(tx, sha512, digest, because);
        },
      );
      crashPoint('oci:after-commit');
    });
    reply.code(201).header('location', `/v2/${name}/manifests/${named}`).header('docker-content-digest', named).header('content-length', 0);
    if (parsed.subject) reply.header('oci-subject', parsed.subject.digest);
    return reply.send();
  }

  /** DELETE of a manifest (every artifact with that digest in the repository) or of a tag (the manifest stays). */
  async deleteManifest(req: Req, reply: FastifyReply, name: string, reference: string): Promise<FastifyReply> {
    const actor = await this.actor(req.headers.authorization);
    const view = await this.view();
    const repo = view.find(name);
    if (!repo) return sendOciError(reply, 'NAME_UNKNOWN', `repository name not known to registry: ${name}`, { name });
    const rows = (await this.store.meta.listArtifacts({ ecosystem: 'oci' })).filter((a) => a.name === name || repo.storedNames.has(a.name));
    if (isOciDigest(reference)) {
      const digest = view.address(reference);
      const gone = rows.filter((a) => a.digest === digest);
      if (gone.length === 0) return sendOciError(reply, 'MANIFEST_UNKNOWN', `manifest unknown: ${name}@${reference}`);
      if (await this.refuseBundleDelete(req, reply, `${name}@${reference}`, gone)) return reply;
      await this.store.withWriteLock('push', async () => {
        await audited(
          this.store.meta,
          {
            actor,
            action: 'oci.delete',
            subject: `${name}@${reference}`,
            outcome: 'deleted',
            detail: { artifacts: gone.map((a) => a.key), bundles: bundlesOf(gone) },
          },
          (tx, because) =>
            tx.deleteArtifacts(
              'oci',
              gone.map((a) => a.key),
              because,
            ),
        );
      });
      return reply.code(202).send();
    }
    const tagged = rows.filter((a) => (a.metadata as { tag?: string }).tag === reference);
    if (tagged.length === 0) return sendOciError(reply, 'MANIFEST_UNKNOWN', `manifest unknown: ${name}:${reference}`);
    if (await this.refuseBundleDelete(req, reply, `${name}:${reference}`, tagged)) return reply;
    await this.store.withWriteLock('push', async () => {
      // The manifests stay reachable by digest: each untagged copy replaces a tagged one, and
      // keeps the bundle it came in, so it stays an admin's to delete.
      const keep: (ArtifactRecord & { bundleId: string | null })[] = tagged.map((a) => {
        const m = a.metadata as unknown as OciImageMetadata;
        const { tag: _tag, ...rest } = m;
        return {
          ecosystem: 'oci',
          key: `${a.name}@${a.digest}`,
          name: a.name,
          version: a.digest,
          digest: a.digest,
          size: a.size,
          ...(a.mediaType ? { mediaType: a.mediaType } : {}),
          ...(a.source ? { source: a.source } : {}),
          metadata: { ...rest, refName: `${a.name}@${a.digest}` } as unknown as Record<string, unknown>,
          blobs: a.blobs,
          bundleId: a.bundleId,
        };
      });
      await audited(
        this.store.meta,
        {
          actor,
          action: 'oci.delete',
          subject: `${name}:${reference}`,
          outcome: 'untagged',
          detail: { artifacts: tagged.map((a) => a.key), bundles: bundlesOf(tagged) },
        },
        async (tx, because) => {
          await tx.deleteArtifacts(
            'oci',
            tagged.map((a) => a.key),
            because,
          );
          for (const bundleId of new Set(keep.map((k) => k.bundleId))) {
            await tx.putArtifacts(
              keep.filter((k) => k.bundleId === bundleId).map(({ bundleId: _b, ...k }) => k),
              bundleId,
              because,
            );
          }
        },
      );
    });
    return reply.code(202).send();
  }
}
