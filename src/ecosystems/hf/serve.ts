import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServeContext } from '../ecosystem.js';
import { sendBlob } from '../http/blob.js';
import { headerSafe } from '../http/errors.js';
import { perRevision } from '../http/revision-cache.js';
import { type HfFile, type HfSnapshot, repoKey } from './record.js';
import { commitFor, hubView } from './view.js';
import { pushAll } from '../../core/arrays.js';

const PAGE = 1000;
const REPO = '([^/]+(?:/[^/]+)?)';

/** A path part's second decoding (revisions and file paths arrive escaped once more); a broken escape stays as sent and simply matches nothing. */
function decodePart(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

type Req = FastifyRequest<{ Params: { '*'?: string }; Querystring: Record<string, string | undefined> }>;

/** A miss as the Hub reports it: the Python client reads X-Error-Code to tell these apart. The message quotes the request, so its header copy is made header-safe. */
function miss(reply: FastifyReply, code: 'RepoNotFound' | 'RevisionNotFound' | 'EntryNotFound', message: string): FastifyReply {
  return reply
    .code(404)
    .header('x-error-code', code)
    .header('x-error-message', headerSafe(message))
    .type('application/json')
    .send({ error: message });
}

/** A file as the tree and paths-info APIs list it. */
function entry(f: HfFile) {
  return {
    type: 'file',
    oid: f.oid,
    size: f.size,
    path: f.path,
    ...(f.lfs
      ? { lfs: { oid: f.lfs.sha256, size: f.lfs.size, ...(f.lfs.pointerSize !== undefined ? { pointerSize: f.lfs.pointerSize } : {}) } }
      : {}),
  };
}

/** The immediate children of `dir` (a directory's oid is a hash of its listing here, not git's tree id). */
function children(s: HfSnapshot, dir: string) {
  const prefix = dir ? `${dir}/` : '';
  const files = s.files.filter((f) => f.path.startsWith(prefix));
  const dirs = new Map<string, HfFile[]>();
  const out: object[] = [];
  for (const f of files) {
    const rest = f.path.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash < 0) out.push(entry(f));
    else {
      const d = `${prefix}${rest.slice(0, slash)}`;
      dirs.set(d, [...(dirs.get(d) ?? []), f]);
    }
  }
  for (const [d, fs] of dirs)
    out.push({
      type: 'directory',
      oid: createHash('sha1')
        .update(fs.map((f) => `${f.path} ${f.oid}`).join('\n'))
        .digest('hex'),
      size: 0,
      path: d,
    });
  return out.sort((a, b) => ((a as { path: string }).path < (b as { path: string }).path ? -1 : 1));
}

/**
 * The Hub API subset `huggingface_hub`, `transformers` and `@huggingface/hub` use, at `/hf/`
 * (`HF_ENDPOINT=http://mirror:8080/hf`): repo info by revision, tree and paths-info, and
 * `resolve` downloads with the headers the clients check. Files are served here, never
 * redirected elsewhere.
 */
export function serveHf(app: FastifyInstance, ctx: ServeContext): void {
  const view = perRevision(ctx.store, async () => hubView(await ctx.store.meta.listArtifacts({ ecosystem: 'hf' })));

  /** The snapshot a request names, or the Hub's 404 for whatever is missing. */
  const find = async (reply: FastifyReply, type: HfSnapshot['type'], repo: string, revision: string): Promise<HfSnapshot | undefined> => {
    const r = (await view()).get(repoKey(type, repo));
    if (!r) {
      miss(reply, 'RepoNotFound', `Repository Not Found for url: ${type}s/${repo}.`);
      return undefined;
    }
    const s = commitFor(r, revision);
    if (!s) miss(reply, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    return s;
  };

  const info = async (reply: FastifyReply, type: HfSnapshot['type'], repo: string, revision: string) => {
    const s = await find(reply, type, repo, revision);
    if (!s) return reply;
    return reply.send({
      _id: s.commit,
      id: repo,
      ...(type === 'model' ? { modelId: repo } : {}),
      sha: s.commit,
      private: false,
      disabled: false,
      gated: false,
      tags: [],
      siblings: s.files.map((f) => ({
        rfilename: f.path,
        size: f.size,
        blobId: f.oid,
        ...(f.lfs ? { lfs: { sha256: f.lfs.sha256, size: f.lfs.size, pointerSize: f.lfs.pointerSize ?? 0 } } : {}),
      })),
    });
  };

  const tree = async (req: Req, reply: FastifyReply, type: HfSnapshot['type'], repo: string, revision: string, dir: string) => {
    const s = await find(reply, type, repo, revision);
    if (!s) return reply;
    const all =
      req.query.recursive === 'true' || req.query.recursive === '1'
        ? s.files.filter((f) => !dir || f.path.startsWith(`${dir}/`)).map(entry)
        : children(s, dir);
    if (dir && all.length === 0) return miss(reply, 'EntryNotFound', `${dir} does not exist at ${s.commit}`);
    const from = Number(Buffer.from(req.query.cursor ?? '', 'base64url').toString() || 0) || 0;
    const limit = Math.min(Math.max(Number(req.query.limit ?? PAGE) || PAGE, 1), PAGE);
    const page = all.slice(from, from + limit);
    if (from + limit < all.length) {
      const next = new URL(req.url, 'http://x');
      next.searchParams.set('cursor', Buffer.from(String(from + limit)).toString('base64url'));
      reply.header('link', `<${ctx.origin(req)}${next.pathname}${next.search}>; rel="next"`);
    }
    return reply.send(page);
  };

  const pathsInfo = async (req: Req, reply: FastifyReply, type: HfSnapshot['type'], repo: string, revision: string) => {
    const s = await find(reply, type, repo, revision);
    if (!s) return reply;
    const body = req.body as { paths?: unknown } | undefined;
    const asked = Array.isArray(body?.paths) ? body.paths.map(String) : typeof body?.paths === 'string' ? [body.paths] : [];
    const out: object[] = [];
    for (const p of asked) {
      const f = s.files.find((x) => x.path === p);
      if (f) out.push(entry(f));
      else if (s.files.some((x) => x.path.startsWith(`${p}/`)))
        pushAll(
          out,
          children(s, p.split('/').slice(0, -1).join('/')).filter((e) => (e as { path: string }).path === p),
        );
    }
    return reply.send(out);
  };

  const resolve = async (req: Req, reply: FastifyReply, type: HfSnapshot['type'], repo: string, revision: string, path: string) => {
    const s = await find(reply, type, repo, revision);
    if (!s) return reply;
    const f = s.files.find((x) => x.path === path);
    if (!f) return miss(reply, 'EntryNotFound', `${path} does not exist at ${s.commit}`);
    // What huggingface_hub's get_hf_file_metadata reads: the commit, the etag (sha256 for LFS,
    // git sha1 otherwise) and the size.
    const etag = `"${f.lfs ? f.lfs.sha256 : f.oid}"`;
    reply.header('x-repo-commit', s.commit);
    if (f.lfs) reply.header('x-linked-etag', etag).header('x-linked-size', String(f.size));
    return sendBlob(
      req,
      reply,
      ctx.store,
      { digest: f.digest, size: f.size },
      {
        contentType: 'application/octet-stream',
        cacheControl: revision === s.commit ? 'public, max-age=31536000, immutable' : 'no-cache',
        etag,
      },
    );
  };

  const handler = async (req: Req, reply: FastifyReply) => {
    const rest = req.params['*'] ?? '';
    const api = new RegExp(`^api/(models|datasets)/${REPO}(?:/(revision|tree|paths-info)/([^/]+)(?:/(.*))?)?$`).exec(rest);
    if (api) {
      const type = api[1] === 'models' ? 'model' : 'dataset';
      const [repo, kind, rev, sub] = [api[2]!, api[3], api[4] ? decodePart(api[4]) : 'main', api[5] ? decodePart(api[5]) : ''];
      if (!kind || kind === 'revision') return info(reply, type, repo, rev);
      if (kind === 'tree') return tree(req, reply, type, repo, rev, sub.replace(/\/+$/, ''));
      if (req.method === 'POST') return pathsInfo(req, reply, type, repo, rev);
    }
    const file = new RegExp(`^(datasets/)?${REPO}/resolve/([^/]+)/(.+)$`).exec(rest);
    if (file && (req.method === 'GET' || req.method === 'HEAD')) {
      return resolve(req, reply, file[1] ? 'dataset' : 'model', file[2]!, decodePart(file[3]!), decodePart(file[4]!));
    }
    return miss(reply, 'EntryNotFound', `/hf/${rest} is not an endpoint of this mirror`);
  };

  app.register(async (scope) => {
    // paths-info posts a form (paths=a&paths=b) or JSON.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      const form = new URLSearchParams(body as string);
      done(null, { paths: form.getAll('paths'), expand: form.get('expand') });
    });
    scope.route({ method: ['GET', 'HEAD', 'POST'], url: '/hf/*', handler });
  });
}
