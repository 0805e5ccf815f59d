import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { TestContext } from 'node:test';

export interface UpstreamFile {
  body: Buffer;
  /** Answer 500 this many times first. */
  failFirst?: number;
  /** On the first request, send this many bytes then reset the connection. */
  resetAfter?: number;
  status?: number;
  /** Answer HEAD with 405, as some object stores and CDNs do for GET-signed URLs. */
  noHead?: boolean;
  /** Ignore Range headers: always the whole file, 200. */
  noRange?: boolean;
  /** Send the body chunked, without Content-Length. */
  chunked?: boolean;
  /** The Content-Length a HEAD claims (a server that lies). */
  headSize?: number;
}

export interface Upstream {
  url: string;
  requests: { method: string; path: string; range: string | undefined }[];
  /** Body bytes sent, all requests together. */
  sent: () => number;
  files: Map<string, UpstreamFile>;
}

/** A local upstream for tests: static files with Range, plus scripted failures. */
export async function startUpstream(t: TestContext, files: Record<string, UpstreamFile>): Promise<Upstream> {
  const state = new Map(Object.entries(files));
  const requests: Upstream['requests'] = [];
  const served = new Map<string, number>();
  let sent = 0;
  const server: Server = createServer((req: IncomingMessage, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push({ method: req.method ?? 'GET', path, range: req.headers.range });
    const f = state.get(path);
    const n = (served.get(path) ?? 0) + 1;
    served.set(path, n);
    if (!f || f.status === 404) {
      res.writeHead(404).end('not found');
      return;
    }
    if (f.status) {
      res.writeHead(f.status).end();
      return;
    }
    if (f.failFirst && n <= f.failFirst) {
      res.writeHead(500).end('try again');
      return;
    }
    if (req.method === 'HEAD' && f.noHead) {
      res.writeHead(405).end();
      return;
    }
    let body = f.body;
    let status = 200;
    const headers: Record<string, string | number> = f.noRange ? {} : { 'accept-ranges': 'bytes' };
    const m = f.noRange ? null : /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m && Number(m[1]) >= f.body.length) {
      res.writeHead(416, { 'content-range': `bytes */${f.body.length}` }).end();
      return;
    }
    if (m) {
      const start = Number(m[1]);
      const end = m[2] ? Math.min(Number(m[2]), f.body.length - 1) : f.body.length - 1;
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${f.body.length}`;
      body = f.body.subarray(start, end + 1);
    }
    if (!f.chunked) headers['content-length'] = req.method === 'HEAD' && f.headSize !== undefined ? f.headSize : body.length;
    res.writeHead(status, headers);
    if (req.method !== 'HEAD') sent += body.length;
    if (f.chunked) {
      res.write(body);
      res.end();
      return;
    }
    if (f.resetAfter !== undefined && n === 1) {
      res.write(body.subarray(0, f.resetAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  server.unref();
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests, files: state, sent: () => sent };
}
