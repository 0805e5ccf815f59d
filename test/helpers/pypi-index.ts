import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAKE_INDEX = fileURLToPath(new URL('../../../test/fixtures/make_index.py', import.meta.url));

export interface StaticIndex {
  url: string;
  /** Paths asked for, with ` range=<spec>` when the request had a Range header. */
  requests: string[];
}

/**
 * A static upstream index built from a folder of wheels: PEP 691 JSON when the client asks
 * for it (and `format` allows), PEP 503 HTML otherwise, with or without PEP 658 files.
 */
export async function startStaticIndex(
  t: TestContext,
  wheels: string,
  out: string,
  opts: { format: 'json' | 'html'; metadata: boolean; ranges?: boolean },
): Promise<StaticIndex> {
  const r = spawnSync('python3', [MAKE_INDEX, wheels, out, ...(opts.metadata ? [] : ['--no-metadata'])], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    requests.push(req.headers.range ? `${path} range=${req.headers.range}` : path);
    const safe = normalize(path).replace(/^(\.\.[/\\])+/, '');
    const wantsJson = opts.format === 'json' && (req.headers.accept ?? '').includes('application/vnd.pypi.simple.v1+json');
    const file = safe.endsWith('/') ? join(out, safe, wantsJson ? 'index.json' : 'index.html') : join(out, safe);
    readFile(file).then(
      (body) => {
        const type = safe.endsWith('/') ? (wantsJson ? 'application/vnd.pypi.simple.v1+json' : 'text/html') : 'application/octet-stream';
        const m = opts.ranges ? /^bytes=(\d*)-(\d+)$/.exec(req.headers.range ?? '') : null;
        if (m) {
          // `bytes=-N` is a suffix: the last N bytes.
          const start = m[1] ? Number(m[1]) : Math.max(0, body.length - Number(m[2]));
          const end = m[1] ? Math.min(Number(m[2]), body.length - 1) : body.length - 1;
          const part = body.subarray(start, end + 1);
          res
            .writeHead(206, {
              'content-type': type,
              'content-length': part.length,
              'content-range': `bytes ${start}-${end}/${body.length}`,
            })
            .end(part);
          return;
        }
        res.writeHead(200, { 'content-type': type, 'content-length': body.length }).end(body);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  t.after(() => new Promise<void>((res) => server.close(() => res())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/simple/`, requests };
}
