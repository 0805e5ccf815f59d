import { createHash } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { TestContext } from 'node:test';

/**
 * A Hub-compatible test server, answering as huggingface.co does (the formats the
 * huggingface_hub and @huggingface/hub clients parse):
 * - `GET /api/{models|datasets}/{repo}/revision/{rev}` → `{ id, sha, siblings: [{ rfilename }] }`
 * - `GET /api/{models|datasets}/{repo}/tree/{rev}?recursive=true` → `[{ type: "file", oid, size, path, lfs?: { oid, size, pointerSize } }]`,
 *   two entries a page, the next page in `Link: <url>; rel="next"` (the Hub pages its tree too)
 * - `GET /{repo}/resolve/{rev}/{path}` (datasets under `/datasets/`): regular files with
 *   `X-Repo-Commit` and `ETag: "<git sha1>"`; LFS files as a 302 to a CDN-like URL, with
 *   `X-Linked-Etag: "<sha256>"` and `X-Linked-Size`
 * - misses: 404 with `X-Error-Code: RepoNotFound | RevisionNotFound | EntryNotFound`.
 */
export interface HubFile {
  path: string;
  body: Buffer;
  lfs?: boolean;
}
export interface HubRepo {
  type: 'model' | 'dataset';
  name: string;
  /** commit → files */
  commits: Record<string, HubFile[]>;
  /** branch or tag → commit */
  refs: Record<string, string>;
}

export const commitId = (seed: string) => createHash('sha1').update(seed).digest('hex');
const gitOid = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const pointer = (b: Buffer) => Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(b)}\nsize ${b.length}\n`);

export async function startHub(t: TestContext, repos: HubRepo[], opts: { corruptLfs?: boolean } = {}) {
  const requests: string[] = [];
  const send = (res: ServerResponse, status: number, headers: Record<string, string | number>, body?: Buffer | string) => {
    res.writeHead(status, headers).end(body);
  };
  const miss = (res: ServerResponse, code: string, msg: string) =>
    send(res, 404, { 'x-error-code': code, 'x-error-message': msg, 'content-type': 'application/json' }, JSON.stringify({ error: msg }));
  const entry = (f: HubFile) =>
    f.lfs
      ? {
          type: 'file',
          oid: gitOid(pointer(f.body)),
          size: f.body.length,
          path: f.path,
          lfs: { oid: sha256(f.body), size: f.body.length, pointerSize: pointer(f.body).length },
        }
      : { type: 'file', oid: gitOid(f.body), size: f.body.length, path: f.path };
  const lfsStore = new Map<string, Buffer>();
  for (const r of repos)
    for (const files of Object.values(r.commits)) for (const f of files) if (f.lfs) lfsStore.set(sha256(f.body), f.body);

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const path = decodeURIComponent(url.pathname);
    const cdn = /^\/lfs-cdn\/([0-9a-f]{64})$/.exec(path);
    if (cdn) {
      const body = lfsStore.get(cdn[1]!)!;
      const served = opts.corruptLfs ? Buffer.concat([body.subarray(0, -1), Buffer.from('!')]) : body;
      return send(
        res,
        200,
        { 'content-length': served.length, 'content-type': 'application/octet-stream' },
        req.method === 'HEAD' ? undefined : served,
      );
    }
    const api = /^\/api\/(models|datasets)\/([^/]+\/[^/]+)\/(revision|tree)\/([^/]+)$/.exec(path);
    const file = /^\/(datasets\/)?([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const type = api ? (api[1] === 'models' ? 'model' : 'dataset') : file?.[1] ? 'dataset' : 'model';
    const repo = repos.find((r) => r.type === type && r.name === (api?.[2] ?? file?.[2]));
    if (!repo) return miss(res, 'RepoNotFound', 'Repository Not Found');
    const rev = api?.[4] ?? file?.[3] ?? '';
    const commit = repo.commits[rev] ? rev : repo.refs[rev];
    if (!commit) return miss(res, 'RevisionNotFound', `Invalid rev id: ${rev}`);
    const files = repo.commits[commit]!;
    if (api?.[3] === 'revision') {
      return send(
        res,
        200,
        { 'content-type': 'application/json' },
        JSON.stringify({ _id: commit, id: repo.name, sha: commit, siblings: files.map((f) => ({ rfilename: f.path })) }),
      );
    }
    if (api?.[3] === 'tree') {
      const from = Number(url.searchParams.get('cursor') ?? 0);
      const page = files.slice(from, from + 2).map(entry);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (from + 2 < files.length) {
        url.searchParams.set('cursor', String(from + 2));
        headers.link = `<${url.toString()}>; rel="next"`;
      }
      return send(res, 200, headers, JSON.stringify(page));
    }
    if (file) {
      const f = files.find((x) => x.path === file[4]);
      if (!f) return miss(res, 'EntryNotFound', `${file[4]} does not exist`);
      if (f.lfs) {
        const e = entry(f);
        return send(res, 302, {
          location: `http://${req.headers.host}/lfs-cdn/${sha256(f.body)}`,
          'x-repo-commit': commit,
          'x-linked-etag': `"${e.lfs!.oid}"`,
          'x-linked-size': f.body.length,
          etag: `"${e.oid}"`,
        });
      }
      return send(
        res,
        200,
        { 'x-repo-commit': commit, etag: `"${gitOid(f.body)}"`, 'content-length': f.body.length },
        req.method === 'HEAD' ? undefined : f.body,
      );
    }
    return miss(res, 'EntryNotFound', 'no such endpoint');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests };
}
