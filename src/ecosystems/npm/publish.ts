import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { valid } from 'semver';
import type { ArtifactRecord } from '../../core/artifact.js';
import { digestOf } from '../../core/digest.js';
import { crashPoint } from '../../core/faults.js';
import { audited } from '../../core/metadata.js';
import type { ServeContext } from '../ecosystem.js';
import { sendError } from '../http/errors.js';
import { npmError } from './errors.js';
import { isTagName, quoted, tarballFile } from './names.js';
import type { NpmVersionMetadata } from './record.js';
import { deprecatedRef, distTagRef, packageState } from './store-view.js';

type Doc = Record<string, unknown>;

/**
 * Dist-tags a package may have. Each is a row written on publish; unbounded, one publish of
 * 100,000 tags held the store and the event loop for half a minute. Real packages have a handful.
 */
export const MAX_DIST_TAGS = 100;

/** A document's dist-tags, or the reason they are refused. */
export function tooManyTags(name: string, tags: Record<string, unknown>): string | undefined {
  const n = Object.keys(tags).length;
  return n > MAX_DIST_TAGS ? `${name}: a package has at most ${MAX_DIST_TAGS} dist-tags; this document names ${n}` : undefined;
}

/** Checks a tarball against the `dist.integrity` (sha512) and `dist.shasum` (sha1) npm computed. */
function integrityProblem(data: Buffer, dist: Doc | undefined): string | undefined {
  const integrity = typeof dist?.integrity === 'string' ? dist.integrity : undefined;
  const shasum = typeof dist?.shasum === 'string' ? dist.shasum : undefined;
  if (!integrity && !shasum) return 'the version has neither dist.integrity nor dist.shasum';
  if (integrity) {
    const sha512 = integrity.split(/\s+/).find((x) => x.startsWith('sha512-'));
    if (!sha512) return `dist.integrity has no sha512 (${integrity})`;
    if (sha512 !== `sha512-${createHash('sha512').update(data).digest('base64')}`) return 'the tarball does not match dist.integrity';
  }
  if (shasum && shasum !== createHash('sha1').update(data).digest('hex')) return 'the tarball does not match dist.shasum';
  return undefined;
}

/**
 * `npm publish`: one new version with its tarball as a base64 attachment. A version that
 * exists is refused (npm's own registry never lets a version change).
 */
async function publish(
  { store }: Pick<ServeContext, 'store'>,
  reply: FastifyReply,
  name: string,
  body: Doc,
  actor: string,
): Promise<FastifyReply> {
  const versions = (body.versions ?? {}) as Record<string, Doc>;
  const attachments = (body._attachments ?? {}) as Record<string, { data?: string; length?: number }>;
  const [version, ...more] = Object.keys(versions);
  if (!version || more.length) return npmError(reply, 400, 'a publish carries exactly one version');
  if (!valid(version)) return npmError(reply, 400, `${quoted(version)} is not a semver version`);
  const manifest = versions[version]!;
  if (manifest.name !== name || manifest.version !== version)
    return npmError(reply, 400, `the version document says ${quoted(manifest.name)}@${quoted(manifest.version)}`);
  const file = tarballFile(name, version);
  const attachment = attachments[file] ?? Object.values(attachments)[0];
  if (!attachment?.data || Object.keys(attachments).length !== 1) return npmError(reply, 400, `expected one attachment, ${file}`);
  const data = Buffer.from(attachment.data, 'base64');
  if (attachment.length !== undefined && attachment.length !== data.length)
    return npmError(reply, 400, `the attachment is ${data.length} bytes, it says ${quoted(attachment.length)}`);
  const problem = integrityProblem(data, manifest.dist as Doc | undefined);
  if (problem) return npmError(reply, 400, `${name}@${version}: ${problem}`);

  const now = new Date().toISOString();
  const { tarball: _url, ...dist } = manifest.dist as Doc;
  const meta: NpmVersionMetadata = { manifest: { ...manifest, dist }, filename: file, time: now };
  const digest = digestOf(data);
  const record: ArtifactRecord = {
    ecosystem: 'npm',
    key: `${name}@${version}`,
    name,
    version,
    digest,
    size: data.length,
    mediaType: 'application/octet-stream',
    metadata: meta as unknown as Record<string, unknown>,
    blobs: [{ digest, size: data.length }],
  };
  const tags = { latest: version, ...((body['dist-tags'] ?? {}) as Record<string, string>) };
  const tooMany = tooManyTags(name, tags);
  if (tooMany) return npmError(reply, 400, tooMany);
  const badTag = Object.keys(tags).find((t) => !isTagName(t));
  if (badTag !== undefined) return npmError(reply, 400, `${quoted(badTag)} is not a dist-tag (URL-safe, at most 214 characters)`);
  return store.withWriteLock('npm publish', async () => {
    if (await store.meta.getArtifact('npm', record.key)) {
      return npmError(reply, 403, `You cannot publish over the previously published versions: ${version}.`);
    }
    await store.blobs.put(Readable.from([data]), `npm:${record.key}`, { digest, size: data.length });
    await audited(
      store.meta,
      {
        actor,
        action: 'npm.publish',
        subject: record.key,
        outcome: 'stored',
        detail: { digest, size: data.length, tags: Object.keys(tags) },
      },
      async (tx, because) => {
        await tx.putArtifacts([record], null, because);
        for (const [tag, v] of Object.entries(tags)) if (v === version) await tx.setRef('npm', name, distTagRef(tag), version, because);
      },
    );
    crashPoint('npm:after-commit');
    return reply.code(201).send({ ok: true, id: name });
  });
}

/**
 * The other writes npm makes with a whole packument (`npm deprecate`, `npm unpublish
 * pkg@version`, `npm dist-tag` through older clients): deprecations and dist-tags follow the
 * document; a version missing from it is unpublished, if it was published here. All of it,
 * and an entry per change, in one transaction.
 */
async function update(
  { store }: Pick<ServeContext, 'store'>,
  reply: FastifyReply,
  name: string,
  body: Doc,
  actor: string,
): Promise<FastifyReply> {
  return store.withWriteLock('npm update', () =>
    store.meta.transaction(async (tx) => {
      const { artifacts, input } = await packageState(store, name);
      if (artifacts.length === 0) return npmError(reply, 404, `${name}: not found`);
      const versions = (body.versions ?? {}) as Record<string, Doc>;
      const gone = artifacts.filter((a) => !(a.version in versions));
      const imported = gone.filter((a) => a.bundleId !== null);
      if (imported.length)
        return npmError(
          reply,
          403,
          `${imported.map((a) => a.key).join(', ')} came in a bundle; only versions published here can be unpublished`,
        );
      for (const a of artifacts) {
        const msg = versions[a.version]?.deprecated;
        const want = typeof msg === 'string' && msg ? msg : null;
        if ((input.deprecated[a.version] ?? null) !== want) {
          const because = await tx.audit({
            actor,
            action: 'npm.deprecate',
            subject: `${name}@${a.version}`,
            outcome: want ? 'deprecated' : 'undeprecated',
            detail: { message: want },
          });
          await tx.setRef('npm', name, deprecatedRef(a.version), want, because);
        }
      }
      const tags = (body['dist-tags'] ?? input.distTags) as Record<string, string>;
      const setTag = async (tag: string, version: string | null) => {
        const because = await tx.audit({
          actor,
          action: 'npm.dist-tag',
          subject: `${name}:${tag}`,
          ...(version === null ? { outcome: 'removed' } : { outcome: 'set', detail: { version } }),
        });
        await tx.setRef('npm', name, distTagRef(tag), version, because);
      };
      for (const [tag, v] of Object.entries(input.distTags)) if (tags[tag] !== v && typeof tags[tag] !== 'string') await setTag(tag, null);
      for (const [tag, v] of Object.entries(tags)) if (input.distTags[tag] !== v && typeof v === 'string') await setTag(tag, v);
      if (gone.length) {
        const because = await tx.audit({ actor, action: 'npm.unpublish', subject: gone.map((a) => a.key).join(', '), outcome: 'deleted' });
        await tx.deleteArtifacts(
          'npm',
          gone.map((a) => a.key),
          because,
        );
        for (const a of gone) await tx.setRef('npm', name, deprecatedRef(a.version), null, because);
      }
      return reply.code(200).send({ ok: true, id: name });
    }),
  );
}

export async function putPackage(
  ctx: Pick<ServeContext, 'store'>,
  reply: FastifyReply,
  name: string,
  body: unknown,
  actor: string,
): Promise<FastifyReply> {
  if (!body || typeof body !== 'object') return sendError(reply, 400, 'BAD_REQUEST', 'expected a JSON packument');
  const doc = body as Doc;
  if (doc.name !== undefined && doc.name !== name)
    return npmError(reply, 400, `the document is for ${quoted(doc.name)}, the URL for ${name}`);
  // First, before any copy of a document that may hold a hundred thousand of them.
  const tooMany = doc['dist-tags'] && typeof doc['dist-tags'] === 'object' ? tooManyTags(name, doc['dist-tags'] as Doc) : undefined;
  if (tooMany) return npmError(reply, 400, tooMany);
  return doc._attachments ? publish(ctx, reply, name, doc, actor) : update(ctx, reply, name, doc, actor);
}

/** `npm unpublish pkg --force`: every version published here goes; the package's refs too. */
export async function deletePackage(
  { store }: Pick<ServeContext, 'store'>,
  reply: FastifyReply,
  name: string,
  actor: string,
): Promise<FastifyReply> {
  return store.withWriteLock('npm unpublish', async () => {
    const { artifacts } = await packageState(store, name);
    if (artifacts.length === 0) return npmError(reply, 404, `${name}: not found`);
    if (artifacts.some((a) => a.bundleId !== null))
      return npmError(reply, 403, `${name} has versions that came in a bundle; they cannot be unpublished`);
    await audited(
      store.meta,
      { actor, action: 'npm.unpublish', subject: name, outcome: 'deleted', detail: { versions: artifacts.map((a) => a.version) } },
      async (tx, because) => {
        await tx.deleteArtifacts(
          'npm',
          artifacts.map((a) => a.key),
          because,
        );
        for (const r of await tx.listRefs('npm', name)) await tx.setRef('npm', name, r.ref, null, because);
      },
    );
    return reply.code(200).send({ ok: true });
  });
}
