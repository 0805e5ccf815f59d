import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { valid } from 'semver';
import { isAirlockError } from '../../core/errors.js';
import { JsonLimitError, parseJsonBounded } from '../../core/json.js';
import { audited } from '../../core/metadata.js';
import type { ServeContext } from '../ecosystem.js';
import { sendBlob } from '../http/blob.js';
import { FailedLogins } from '../http/failures.js';
import { npmError } from './errors.js';
import { OriginPages, PageCache, freshness, sendPage } from '../http/revision-cache.js';
import { ABBREVIATED, renderPackument, wantsAbbreviated } from './packument.js';
import { MAX_DIST_TAGS, deletePackage, putPackage } from './publish.js';
import { isTagName, isUserName, packageNameFromPath, quoted } from './names.js';
import { readNpmMetadata } from './record.js';
import { distTagRef, packageState } from './store-view.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Base64 in JSON: a 100 MiB tarball is about 134 MiB of body. */
const PUBLISH_LIMIT = 256 << 20;
/** A login is a name and a password, read before anyone is known: nothing bigger is read. */
const LOGIN_LIMIT = 4096;
/** npm audit's question (gzipped), read without a token where reads are open; the answer does not depend on it. */
const AUDIT_LIMIT = 1 << 20;

/** A path segment decoded, or null when its escapes are broken (decodeURIComponent would throw). */
function decoded(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

type Req = FastifyRequest<{ Params: { '*'?: string }; Querystring: Record<string, string | undefined> }>;

/**
 * The npm registry API at `/npm/`: packuments (full and abbreviated), tarballs with Range,
 * publish / dist-tag / deprecate / unpublish of hosted packages, login (a publisher token
 * for valid airlock credentials), whoami, ping, search, and an empty audit answer.
 */
export function serveNpm(app: FastifyInstance, ctx: ServeContext): void {
  const pages = new PageCache();
  const origins = new OriginPages();
  const packument = async (req: Req, reply: FastifyReply, name: string) => {
    const abbreviated = wantsAbbreviated(req.headers.accept);
    const page = await pages.get(`${abbreviated ? 'a' : 'f'} ${name}`, await freshness(ctx.store, 'npm', name), async () => {
      const { artifacts, input } = await packageState(ctx.store, name);
      return artifacts.length ? Buffer.from(JSON.stringify(renderPackument(input, origins.placeholder, abbreviated))) : undefined;
    });
    if (!page) return npmError(reply, 404, 'Not found');
    reply.header('vary', 'Accept');
    return sendPage(req, reply, origins.fill(page, ctx.origin(req)), abbreviated ? ABBREVIATED : 'application/json');
  };

  const tarball = async (req: Req, reply: FastifyReply, name: string, file: string) => {
    // `name-1.2.3.tgz` names its version: one row to look up, not the whole package.
    const stem = `${name.split('/').pop()}-`;
    const version = file.startsWith(stem) && file.endsWith('.tgz') ? file.slice(stem.length, -4) : '';
    const hit = version ? await ctx.store.meta.getArtifact('npm', `${name}@${version}`) : undefined;
    if (!hit || readNpmMetadata(hit.metadata)?.filename !== file) return npmError(reply, 404, `${name}: no tarball ${quoted(file)}`);
    return sendBlob(req, reply, ctx.store, hit, { contentType: 'application/octet-stream', cacheControl: IMMUTABLE });
  };

  const search = async (req: Req, reply: FastifyReply) => {
    const text = (req.query.text ?? '').toLowerCase();
    const size = Math.min(Math.max(Number(req.query.size ?? 20) || 20, 1), 250);
    const from = Math.max(Number(req.query.from ?? 0) || 0, 0);
    const names = (await ctx.store.meta.listNames('npm')).filter((n) => n.includes(text));
    const objects = [];
    for (const name of names.slice(from, from + size)) {
      const { input } = await packageState(ctx.store, name);
      const latest = renderPackument(input, ctx.origin(req), true)['dist-tags'] as Record<string, string>;
      const v = input.versions.find((x) => x.manifest.version === latest.latest);
      objects.push({
        package: {
          name,
          version: latest.latest,
          description: v?.manifest.description ?? '',
          keywords: Array.isArray(v?.manifest.keywords) ? v.manifest.keywords : [],
          date: v?.time,
          links: {},
          publisher: { username: 'airlock' },
          maintainers: Array.isArray(v?.manifest.maintainers) ? v.manifest.maintainers : [],
        },
        score: { final: 1, detail: { quality: 1, popularity: 1, maintenance: 1 } },
        searchScore: 1,
      });
    }
    return reply.send({ objects, total: names.length, time: new Date().toUTCString() });
  };

  const failures = new FailedLogins(ctx.audit, { action: 'npm.login', actor: 'npm-login' });
  app.addHook('onClose', () => failures.flush());

  /**
   * `npm login --auth-type=legacy`: the password must be an airlock publisher (or admin)
   * token; a new publisher token comes back. Anyone may ask, so the name is checked before it
   * goes anywhere, and failures are limited per address and name (see FailedLogins).
   */
  const login = async (req: Req, reply: FastifyReply) => {
    const m = /^org\.couchdb\.user:(.+)$/.exec(req.params['*'] ?? '');
    let user: string | undefined;
    try {
      user = m ? decodeURIComponent(m[1]!) : undefined;
    } catch {
      user = undefined;
    }
    if (!user || !isUserName(user))
      return npmError(reply, 400, `${quoted(user ?? req.params['*'])} is not a user name (lowercase, URL-safe, at most 214 characters)`);
    const body = (req.body ?? {}) as { name?: unknown; password?: unknown };
    const name = body.name === undefined ? user : body.name;
    if (name !== user) return npmError(reply, 400, `the body logs in ${quoted(name)}, the URL ${quoted(user)}`);
    const wait = await failures.retryAfter(req.ip, user);
    if (wait) {
      reply.header('retry-after', String(wait));
      return npmError(reply, 429, `too many failed logins from this address or for this name; try again in ${wait} s`);
    }
    const presented = typeof body.password === 'string' ? await ctx.token(`Bearer ${body.password}`) : undefined;
    if (!presented || presented.role === 'reader') {
      await failures.failed(req.ip, user);
      return npmError(reply, 401, 'log in with an airlock publisher token as the password');
    }
    try {
      const issued = await ctx.mintToken(presented.name, `npm-${user.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40)}`);
      return reply.code(201).send({ ok: true, id: `org.couchdb.user:${user}`, token: issued.token });
    } catch (e) {
      if (isAirlockError(e) && (e.code === 'FORBIDDEN' || e.code === 'AUTH_REQUIRED'))
        return npmError(reply, e.code === 'FORBIDDEN' ? 403 : 401, e.message);
      throw e;
    }
  };

  const distTags = async (req: Req, reply: FastifyReply, name: string, tag: string | undefined) => {
    const { artifacts, input } = await packageState(ctx.store, name);
    if (artifacts.length === 0) return npmError(reply, 404, `${name}: not found`);
    if (req.method === 'GET') return reply.send(input.distTags);
    if (!tag) return npmError(reply, 400, 'which tag?');
    if (!isTagName(tag)) return npmError(reply, 400, `${quoted(tag)} is not a dist-tag (URL-safe, at most 214 characters)`);
    const actor = await ctx.actor(req.headers.authorization);
    if (req.method === 'DELETE') {
      if (tag === 'latest') return npmError(reply, 400, 'the latest tag cannot be removed');
      await ctx.store.withWriteLock('npm dist-tag', async () => {
        await audited(ctx.store.meta, { actor, action: 'npm.dist-tag', subject: `${name}:${tag}`, outcome: 'removed' }, (tx, because) =>
          tx.setRef('npm', name, distTagRef(tag), null, because),
        );
      });
      return reply.send({ ok: true });
    }
    const version = typeof req.body === 'string' ? req.body : undefined;
    if (!version || !valid(version) || !artifacts.some((a) => a.version === version))
      return npmError(reply, 400, `${name} has no version ${quoted(version)}`);
    if (!(tag in input.distTags) && Object.keys(input.distTags).length >= MAX_DIST_TAGS)
      return npmError(reply, 400, `${name}: a package has at most ${MAX_DIST_TAGS} dist-tags`);
    await ctx.store.withWriteLock('npm dist-tag', async () => {
      await audited(
        ctx.store.meta,
        { actor, action: 'npm.dist-tag', subject: `${name}:${tag}`, outcome: 'set', detail: { version } },
        (tx, because) => tx.setRef('npm', name, distTagRef(tag), version, because),
      );
    });
    return reply.code(201).send({ ok: true });
  };

  const handler = async (req: Req, reply: FastifyReply) => {
    const rest = req.params['*'] ?? '';
    const method = req.method;
    if (rest === '-/ping') return reply.send({});
    if (rest === '-/whoami') {
      const t = await ctx.token(req.headers.authorization);
      return t ? reply.send({ username: t.name }) : npmError(reply, 401, 'not logged in');
    }
    if (rest === '-/v1/search') return search(req, reply);
    const tags = /^-\/package\/(.+?)\/dist-tags(?:\/([^/]+))?$/.exec(rest);
    if (tags) {
      const name = packageNameFromPath(tags[1]!);
      const tag = tags[2] === undefined ? undefined : decoded(tags[2]);
      if (tag === null) return npmError(reply, 400, `${quoted(tags[2])}: a broken percent-escape`);
      return name ? distTags(req, reply, name, tag) : npmError(reply, 400, 'invalid package name');
    }
    // <name>[/-/<file>][/-rev/<rev>], the name possibly `@scope/name` with a real slash.
    const m = /^((?:@[^/]+(?:\/|%2[fF]))?[^/@][^/]*)(?:\/-\/([^/]+))?(?:\/-rev\/[^/]+)?$/.exec(rest);
    const name = m ? packageNameFromPath(m[1]!) : undefined;
    if (!m || !name) return npmError(reply, 400, `invalid package name in ${quoted(`/npm/${rest}`)}`);
    const file = m[2];
    const actor = () => ctx.actor(req.headers.authorization);
    if (file) {
      const tarballName = decoded(file);
      if (tarballName === null) return npmError(reply, 400, `${quoted(file)}: a broken percent-escape`);
      if (method === 'GET' || method === 'HEAD') return tarball(req, reply, name, tarballName);
      // npm deletes the tarball after removing its version from the packument: nothing is left to do.
      if (method === 'DELETE') return reply.send({ ok: true });
    } else {
      if (method === 'GET' || method === 'HEAD') return packument(req, reply, name);
      if (method === 'PUT') return putPackage(ctx, reply, name, req.body, await actor());
      if (method === 'DELETE') return deletePackage(ctx, reply, name, await actor());
    }
    return npmError(reply, 405, `${method} is not supported here`);
  };

  app.register(async (scope) => {
    // npm sends a dist-tag as a bare JSON string and packuments with tarballs inside.
    // The server's own JSON parser is replaced here by one that takes publish-sized bodies and lets npm audit's gzip through.
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: PUBLISH_LIMIT }, (req, body, done) => {
      // npm audit gzips its question; the answer does not depend on it, so it is not read.
      if (req.headers['content-encoding']) return done(null, undefined);
      try {
        done(null, body === '' ? undefined : parseJsonBounded(body as string));
      } catch (e) {
        done(
          Object.assign(new Error(e instanceof JsonLimitError ? `the body is ${e.message}` : 'the body is not JSON'), { statusCode: 400 }),
          undefined,
        );
      }
    });
    scope.setErrorHandler((err: { statusCode?: number; message?: string }, req, reply) => {
      if (err.statusCode === 413)
        return npmError(reply, 413, `the body is too large: this endpoint takes at most ${req.routeOptions.bodyLimit} bytes`);
      if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return npmError(reply, err.statusCode, String(err.message));
      throw err;
    });
    // Routes that read a body before any token is checked take only what they need.
    scope.route({ method: 'PUT', url: '/npm/-/user/*', handler: login, bodyLimit: LOGIN_LIMIT });
    scope.route({
      method: 'POST',
      url: '/npm/-/npm/v1/security/advisories/bulk',
      handler: (_req, reply) => reply.send({}),
      bodyLimit: AUDIT_LIMIT,
    });
    scope.route({ method: ['GET', 'HEAD', 'PUT', 'DELETE', 'POST'], url: '/npm/*', handler, bodyLimit: PUBLISH_LIMIT });
  });
}
