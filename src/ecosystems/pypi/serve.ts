import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { StoredArtifact } from '../../core/artifact.js';
import { hexOf } from '../../core/digest.js';
import type { ServeContext } from '../ecosystem.js';
import { sendBlob } from '../http/blob.js';
import { sendError } from '../http/errors.js';
import { PageCache, freshness, sendPage } from '../http/revision-cache.js';
import { normalizeName } from './names.js';
import { type PypiFileMetadata, readPypiMetadata } from './record.js';
import { type SimpleFile, negotiate, renderIndex, renderProject } from './simple.js';
import { handleUpload, registerUploadParser } from './upload.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const SUPPORTED = 'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html, text/html';

function toSimpleFile(a: StoredArtifact, m: PypiFileMetadata): SimpleFile {
  return {
    filename: m.filename,
    url: `../../files/${encodeURIComponent(a.name)}/${encodeURIComponent(m.filename)}`,
    sha256: hexOf(a.digest),
    size: a.size,
    yanked: m.yanked,
    ...(m.requiresPython ? { requiresPython: m.requiresPython } : {}),
    ...(m.coreMetadata ? { coreMetadataSha256: hexOf(m.coreMetadata.digest) } : {}),
    ...(m.uploadTime ? { uploadTime: m.uploadTime } : {}),
  };
}

/**
 * Chooses the representation or answers 406; every answer varies on Accept. Bodies go out as
 * Buffers so the Content-Type stays exactly the negotiated media type (no charset added).
 */
function chooseFormat(req: FastifyRequest, reply: FastifyReply) {
  reply.header('vary', 'Accept');
  const format = negotiate(req.headers.accept);
  if (!format) sendError(reply, 406, 'NOT_ACCEPTABLE', `the simple API serves ${SUPPORTED}`);
  return format;
}

/**
 * `/pypi/simple/` (PEP 503 + 691), `/pypi/files/<project>/<file>[.metadata]` (PEP 658), and
 * twine uploads at `/pypi/legacy/`. Uploaded and imported files share one index.
 */
export async function servePypi(app: FastifyInstance, ctx: ServeContext): Promise<void> {
  await registerUploadParser(app);
  const cache = new PageCache();
  app.get('/pypi/simple/', async (req, reply) => {
    const format = chooseFormat(req, reply);
    if (!format) return reply;
    const page = await cache.get(`/${format}`, await freshness(ctx.store, 'pypi'), async () =>
      Buffer.from(renderIndex(await ctx.store.meta.listNames('pypi'), format)),
    );
    return sendPage(req, reply, page!, format);
  });

  app.get<{ Params: { project: string } }>('/pypi/simple/:project', async (req, reply) => {
    reply.header('vary', 'Accept');
    return reply.redirect(`/pypi/simple/${encodeURIComponent(normalizeName(req.params.project))}/`, 301);
  });

  app.get<{ Params: { project: string } }>('/pypi/simple/:project/', async (req, reply) => {
    const name = normalizeName(req.params.project);
    if (name !== req.params.project) {
      reply.header('vary', 'Accept');
      return reply.redirect(`/pypi/simple/${encodeURIComponent(name)}/`, 301);
    }
    const format = chooseFormat(req, reply);
    if (!format) return reply;
    const page = await cache.get(`${name}/${format}`, await freshness(ctx.store, 'pypi', name), async () => {
      const rows = await ctx.store.meta.listArtifacts({ ecosystem: 'pypi', name });
      if (rows.length === 0) return undefined;
      const files = rows.map((a) => toSimpleFile(a, readPypiMetadata(a)));
      return Buffer.from(renderProject(name, [...new Set(rows.map((a) => a.version))], files, format));
    });
    if (!page) return sendError(reply, 404, 'NOT_FOUND', `no project named ${name}`);
    return sendPage(req, reply, page, format);
  });

  app.route<{ Params: { project: string; file: string } }>({
    method: ['GET', 'HEAD'],
    url: '/pypi/files/:project/:file',
    handler: async (req, reply) => {
      const wantsMetadata = req.params.file.endsWith('.metadata');
      const filename = wantsMetadata ? req.params.file.slice(0, -'.metadata'.length) : req.params.file;
      const a = await ctx.store.meta.getArtifact('pypi', filename);
      if (!a || a.name !== normalizeName(req.params.project)) return sendError(reply, 404, 'NOT_FOUND', `no file ${req.params.file}`);
      const m = readPypiMetadata(a);
      if (wantsMetadata && !m.coreMetadata) return sendError(reply, 404, 'NOT_FOUND', `${filename} has no core metadata file`);
      const blob = wantsMetadata ? m.coreMetadata! : a;
      return sendBlob(req, reply, ctx.store, blob, {
        cacheControl: IMMUTABLE,
        contentType: wantsMetadata ? 'text/plain; charset=utf-8' : 'application/octet-stream',
      });
    },
  });

  app.post('/pypi/legacy/', (req, reply) => handleUpload(req, reply, ctx));
}
