import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join, normalize } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

const MAKE_INDEX = fileURLToPath(new URL('../../../test/fixtures/make_index.py', import.meta.url));

export interface StaticIndex {
  url: string;
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
  opts: { format: 'json' | 'html'; metadata: boolean },
): Promise<StaticIndex> {
  const r = spawnSync('python3', [MAKE_INDEX, wheels, out, ...(opts.metadata ? [] : ['--no-metadata'])], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    requests.push(path);
    const safe = normalize(path).replace(/^(\.\.[/\\])+/, '');
    const wantsJson = opts.format === 'json' && (req.headers.accept ?? '').includes('application/vnd.pypi.simple.v1+json');
    const file = safe.endsWith('/') ? join(out, safe, wantsJson ? 'index.json' : 'index.html') : join(out, safe);
    readFile(file).then(
      (body) => {
        const type = safe.endsWith('/') ? (wantsJson ? 'application/vnd.pypi.simple.v1+json' : 'text/html') : 'application/octet-stream';
        res.writeHead(200, { 'content-type': type, 'content-length': body.length }).end(body);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  t.after(() => new Promise<void>((res) => server.close(() => res())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/simple/`, requests };
}
