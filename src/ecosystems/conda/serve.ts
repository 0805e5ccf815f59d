import { zstdCompressSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServeContext } from '../ecosystem.js';
import { sendBlob } from '../http/blob.js';
import { sendError } from '../http/errors.js';
import { PageCache, perEcosystem, sendPage } from '../http/revision-cache.js';
import { isPackageFile } from './channel.js';
import { KNOWN_SUBDIRS } from './platforms.js';
import { versionComparator } from './rattler.js';
import { newestOnly, renderChannelData, renderRepodata } from './repodata.js';
import { type ChannelEntry, channelsView } from './view.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const DOCUMENTS = new Set(['repodata.json', 'current_repodata.json']);

type Req = FastifyRequest<{ Params: { '*'?: string } }>;

/**
 * Conda channels at `/conda/<channel>/` as conda, mamba, pixi and rattler read them:
 * `<subdir>/repodata.json` (and `.zst`), `current_repodata.json`, `channeldata.json`, and the
 * package files. Every subdir name answers for a channel the store holds (empty when it holds
 * nothing there), so `noarch/repodata.json` always exists.
 */
export function serveConda(app: FastifyInstance, ctx: ServeContext): void {
  const view = perEcosystem(ctx.store, 'conda', async () => channelsView(await ctx.store.meta.listArtifacts({ ecosystem: 'conda' })));
  const pages = new PageCache();
  let compare: Promise<(a: string, b: string) => number> | undefined;
  const comparator = () => (compare ??= versionComparator());

  const repodata = async (subdir: string, doc: string, entries: ChannelEntry[]): Promise<Buffer> =>
    renderRepodata(subdir, doc === 'current_repodata.json' ? newestOnly(entries, await comparator()) : entries);

  const handler = async (req: Req, reply: FastifyReply) => {
    // The router has decoded the path once already (a malformed escape is its 400).
    const parts = (req.params['*'] ?? '').split('/');
    const notFound = (what: string) => sendError(reply, 404, 'NOT_FOUND', `${what} is not on this mirror`);
    const file = parts.pop() ?? '';
    const { value: channels, fresh } = await view();

    if (file === 'channeldata.json') {
      const channel = parts.join('/');
      const subdirs = channels.get(channel);
      if (!subdirs) return notFound(`channel ${channel}`);
      const held = [...new Set([...subdirs.keys(), 'noarch'])];
      const all = [...subdirs.values()].flatMap((f) => [...f.values()]);
      const page = await pages.get(`${channel}\0channeldata`, fresh, async () => renderChannelData(all, held, await comparator()));
      return sendPage(req, reply, page!, 'application/json');
    }

    const subdir = parts.pop() ?? '';
    const channel = parts.join('/');
    const subdirs = channels.get(channel);
    if (!subdirs) return notFound(`channel ${channel}`);
    if (!KNOWN_SUBDIRS.has(subdir)) return notFound(`subdir ${channel}/${subdir}`);
    const files = subdirs.get(subdir) ?? new Map<string, ChannelEntry>();

    const zst = file.endsWith('.zst');
    const doc = zst ? file.slice(0, -4) : file;
    if (DOCUMENTS.has(doc)) {
      const key = `${channel}\0${subdir}\0${doc}`;
      const json = await pages.get(key, fresh, async () => repodata(subdir, doc, [...files.values()]));
      if (!zst) return sendPage(req, reply, json!, 'application/json');
      const packed = await pages.get(`${key}.zst`, fresh, async () => zstdCompressSync(json!.body));
      return sendPage(req, reply, packed!, 'application/zstd');
    }

    const entry = isPackageFile(file) ? files.get(file) : undefined;
    if (!entry) return notFound(`${channel}/${subdir}/${file}`);
    return sendBlob(req, reply, ctx.store, entry, { contentType: 'application/octet-stream', cacheControl: IMMUTABLE });
  };

  app.route({ method: ['GET', 'HEAD'], url: '/conda/*', handler });
}
