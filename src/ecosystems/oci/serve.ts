import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readBlobBytes } from '../../core/blobstore.js';
import type { Digest } from '../../core/digest.js';
import type { ServeContext } from '../ecosystem.js';
import { tokenFromHeader } from '../http/authorization.js';
import { sendBlob } from '../http/blob.js';
import { perRevision } from '../http/revision-cache.js';
import { bearerChallenge } from './challenge.js';
import { sendOciError } from './errors.js';
import { type OciDigest, isOciDigest, parseManifest } from './manifest.js';
import { OCI_INDEX } from './media-types.js';
import { Pusher } from './push.js';
import { isRepositoryPath, isTag } from './reference.js';
import type { StoredManifest } from './record.js';
import { sha512Names } from './sha512.js';
import { RegistryView, type RepoView } from './view.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The Bearer token /v2/token hands a client without credentials. */
const ANONYMOUS = 'anonymous';
const MAX_PAGE = 1000;

type Query = { n?: string; last?: string; ns?: string; artifactType?: string };

/** `n` and `last` pagination (distribution spec: tags list and catalog), with the `Link` to the next page. */
function paginate(req: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply, all: string[], path: string): string[] | undefined {
  const { n, last } = req.query;
  const items = last !== undefined ? all.filter((x) => x > last) : all;
  if (n === undefined) return items;
  const limit = Number(n);
  if (!Number.isInteger(limit) || limit < 0) {
    sendOciError(reply, 'UNSUPPORTED', `n must be a non-negative integer, got "${n}"`, undefined, 400);
    return undefined;
  }
  const page = items.slice(0, Math.min(limit, MAX_PAGE));
  if (items.length > page.length && page.length > 0) {
    reply.header('link', `<${path}?n=${limit}&last=${encodeURIComponent(page.at(-1)!)}>; rel="next"`);
  }
  return page;
}

/**
 * The OCI Distribution Spec v1.1 at `/v2/`: pull (manifests by tag and digest, blobs with
 * Range, tags and catalog with pagination, the referrers API) and push (push.ts). Answers are
 * built from a view of the store that is rebuilt only when the store's revision changes.
 */
export function serveOci(app: FastifyInstance, ctx: ServeContext): void {
  const view = perRevision(ctx.store, async () => {
    const bundles = new Map((await ctx.store.meta.listBundles()).map((b) => [b.id, { creator: b.creator, sequence: b.sequence }]));
    return new RegistryView(await ctx.store.meta.listArtifacts({ ecosystem: 'oci' }), bundles, await sha512Names(ctx.store));
  });

  // The spec's artifactType of an image manifest without one is its config's media type.
  // Records hold only a declared artifactType (those written before this rule too), so the
  // fallback is read from the manifest's own bytes, once per digest.
  const configTypes = new Map<Digest, string | undefined>();
  const artifactType = async (m: StoredManifest): Promise<string | undefined> => {
    if (m.artifactType) return m.artifactType;
    if (!configTypes.has(m.digest)) {
      const parsed = parseManifest(await readBlobBytes(ctx.store.blobs, m.digest), m.mediaType, { sha512: true });
      configTypes.set(m.digest, parsed.kind === 'image' ? parsed.config.mediaType : undefined);
    }
    return configTypes.get(m.digest);
  };

  const apiVersion = async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.url === '/v2' || req.url.startsWith('/v2/')) reply.header('docker-distribution-api-version', 'registry/2.0');
  };
  // onSend covers answers sent before any handler (auth's 401 on the ping); onRequest covers
  // large blob downloads, which are written by hand and skip onSend.
  app.addHook('onRequest', apiVersion);
  app.addHook('onSend', apiVersion);

  const manifest = async (
    req: FastifyRequest<{ Querystring: Query }>,
    reply: FastifyReply,
    v: RegistryView,
    repo: RepoView,
    reference: string,
  ) => {
    const byDigest = isOciDigest(reference);
    // A name no tag can have is simply not there (the spec's 404); only a malformed digest is the client's error.
    if (!byDigest && reference.includes(':'))
      return sendOciError(reply, 'DIGEST_INVALID', `"${reference}" is neither a tag nor a sha256 or sha512 digest`);
    const address = byDigest ? v.address(reference) : undefined;
    const m = byDigest ? address && repo.manifests.get(address) : isTag(reference) ? repo.tags.get(reference) : undefined;
    if (!m)
      return sendOciError(reply, 'MANIFEST_UNKNOWN', `manifest unknown: ${repo.name}${byDigest ? '@' : ':'}${reference}`, {
        name: repo.name,
        reference,
      });
    reply.header('docker-content-digest', byDigest ? reference : m.digest);
    return sendBlob(req, reply, ctx.store, m, { contentType: m.mediaType, cacheControl: byDigest ? IMMUTABLE : 'no-cache' });
  };

  // Blobs are content-addressed and readers may read every repository, so a blob the store
  // holds is served under any name: a pushed layer is there before its manifest, as clients expect.
  const blob = async (
    req: FastifyRequest,
    reply: FastifyReply,
    v: RegistryView,
    repo: RepoView | undefined,
    name: string,
    digest: string,
  ) => {
    if (!isOciDigest(digest)) return sendOciError(reply, 'DIGEST_INVALID', `"${digest}" is not a sha256 or sha512 digest`);
    const address = v.address(digest);
    const b = address && (repo?.blobs.get(address) ?? (await ctx.store.blobs.stat(address)));
    if (!address || !b) return sendOciError(reply, 'BLOB_UNKNOWN', `blob unknown to ${name}: ${digest}`, { digest });
    reply.header('docker-content-digest', digest);
    return sendBlob(
      req,
      reply,
      ctx.store,
      { digest: address, size: b.size },
      { contentType: 'application/octet-stream', cacheControl: IMMUTABLE },
    );
  };

  const referrers = async (
    req: FastifyRequest<{ Querystring: Query }>,
    reply: FastifyReply,
    v: RegistryView,
    repo: RepoView | undefined,
    digest: OciDigest,
  ) => {
    const filter = req.query.artifactType;
    // A subject may be named by either algorithm: the same bytes are the same subject.
    const same = (d: OciDigest) => v.address(d) ?? d;
    const subject = same(digest);
    const manifests = [];
    for (const m of repo?.manifests.values() ?? []) {
      if (!m.subject || same(m.subject) !== subject) continue;
      const type = await artifactType(m);
      if (filter && type !== filter) continue;
      manifests.push({
        mediaType: m.mediaType,
        digest: v.nameOf(m.digest),
        size: m.size,
        ...(type ? { artifactType: type } : {}),
        ...(m.annotations ? { annotations: m.annotations } : {}),
      });
    }
    manifests.sort((a, b) => (a.digest < b.digest ? -1 : 1));
    if (filter) reply.header('oci-filters-applied', 'artifactType');
    return reply
      .code(200)
      .type(OCI_INDEX)
      .send(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests })));
  };

  const handler = async (req: FastifyRequest<{ Querystring: Query; Params: { '*'?: string } }>, reply: FastifyReply) => {
    const rest = req.params['*'] ?? '';
    if (rest === '') {
      // Clients learn from this ping whether and how to authenticate: without a challenge here
      // they would never offer credentials to a push. The anonymous token passes only where
      // reads are open (with --auth required the server's hook has refused it already).
      const auth = req.headers.authorization;
      if (!auth || (auth !== `Bearer ${ANONYMOUS}` && !(await ctx.token(auth)))) {
        reply.header('www-authenticate', bearerChallenge(ctx.origin(req)));
        return sendOciError(reply, 'UNAUTHORIZED', 'authentication required (a token from /v2/token, or Basic with a token as password)');
      }
      return reply.code(200).type('application/json').send({});
    }
    const v = await view();
    if (rest === '_catalog') {
      const page = paginate(req, reply, v.names(), '/v2/_catalog');
      return page && reply.send({ repositories: page });
    }
    const upload = UPLOAD_PATH.exec(rest);
    if (upload) return validName(reply, upload[1]!) && pusher.status(reply, upload[1]!, upload[2]!);
    const m = /^(.+?)\/(manifests|blobs|tags|referrers)\/([^/]+)$/.exec(rest);
    if (!m) return sendOciError(reply, 'NAME_INVALID', `no such endpoint: /v2/${rest}`, undefined, 404);
    const [, name, kind, ref] = m as unknown as [string, string, string, string];
    if (!validName(reply, name)) return reply;
    const repo = v.find(name, req.query.ns);
    if (kind === 'referrers') {
      if (!isOciDigest(ref)) return sendOciError(reply, 'DIGEST_INVALID', `"${ref}" is not a sha256 or sha512 digest`);
      return referrers(req, reply, v, repo, ref);
    }
    if (kind === 'blobs') return blob(req, reply, v, repo, name, ref);
    if (!repo) return sendOciError(reply, 'NAME_UNKNOWN', `repository name not known to registry: ${name}`, { name });
    if (kind === 'manifests') return manifest(req, reply, v, repo, ref);
    if (ref !== 'list') return sendOciError(reply, 'NAME_INVALID', `no such endpoint: /v2/${rest}`, undefined, 404);
    const page = paginate(req, reply, [...repo.tags.keys()].sort(), `/v2/${name}/tags/list`);
    return page && reply.send({ name, tags: page });
  };

  const write = async (req: FastifyRequest<{ Querystring: Query; Params: { '*'?: string } }>, reply: FastifyReply) => {
    const rest = req.params['*'] ?? '';
    const start = /^(.+)\/blobs\/uploads\/?$/.exec(rest);
    const session = UPLOAD_PATH.exec(rest);
    const man = /^(.+?)\/manifests\/([^/]+)$/.exec(rest);
    const name = start?.[1] ?? session?.[1] ?? man?.[1];
    if (!name || !validName(reply, name)) {
      req.raw.resume();
      return name ? reply : sendOciError(reply, 'UNSUPPORTED', `${req.method} /v2/${rest} is not an endpoint of this registry`);
    }
    if (start && req.method === 'POST') return pusher.start(req, reply, name);
    if (session && req.method === 'PATCH') return pusher.patch(req, reply, name, session[2]!);
    if (session && req.method === 'PUT') return pusher.put(req, reply, name, session[2]!);
    if (session && req.method === 'DELETE') return pusher.cancel(reply, session[2]!);
    if (man && req.method === 'PUT') return pusher.putManifest(req, reply, name, man[2]!);
    if (man && req.method === 'DELETE') return pusher.deleteManifest(req, reply, name, man[2]!);
    req.raw.resume();
    return sendOciError(reply, 'UNSUPPORTED', `${req.method} /v2/${rest} is not supported (blobs are never deleted by the API)`);
  };

  const pusher = new Pusher(ctx.store, view, ctx.actor, ctx.token);
  // The token realm of the distribution auth spec: the credentials presented (Basic with a
  // token as password, or Bearer) are checked, and the token they carry is handed back as the
  // Bearer token, so no second secret exists. Without credentials the token is `anonymous`,
  // good for whatever anonymous requests may do (reads, unless --auth required). Scopes are
  // not narrowed: a token's role decides.
  app.get('/v2/token', async (req, reply) => {
    if (req.headers.authorization && !(await ctx.token(req.headers.authorization))) {
      reply.header('www-authenticate', 'Basic realm="airlock"');
      return sendOciError(reply, 'UNAUTHORIZED', 'unknown or revoked token');
    }
    const token = tokenFromHeader(req.headers.authorization) ?? ANONYMOUS;
    const issued = new Date().toISOString();
    return reply.header('cache-control', 'no-store').send({ token, access_token: token, expires_in: 3600, issued_at: issued });
  });
  app.route({ method: ['GET', 'HEAD'], url: '/v2/*', handler });
  app.route({ method: ['GET', 'HEAD'], url: '/v2', handler: (_req, reply) => reply.redirect('/v2/', 301) });
  // Uploads and manifests arrive as raw bodies of any media type: no parser may touch them.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null));
    scope.route({ method: ['POST', 'PUT', 'PATCH', 'DELETE'], url: '/v2/*', handler: write });
  });
}

const UPLOAD_PATH = /^(.+)\/blobs\/uploads\/([^/]+)$/;

function validName(reply: FastifyReply, name: string): boolean {
  if (isRepositoryPath(name)) return true;
  sendOciError(reply, 'NAME_INVALID', `invalid repository name "${name}"`);
  return false;
}
