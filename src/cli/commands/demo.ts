import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { entryCost } from '../../bundle/plan.js';
import { digestOf } from '../../core/digest.js';
import { AirlockError } from '../../core/errors.js';
import { silentReporter } from '../../core/report.js';
import { Store } from '../../core/store.js';
import type { FastifyInstance } from 'fastify';
import { createBundle, verifyBundles } from '../../services/bundle.js';
import { fetchLock } from '../../services/fetch.js';
import { importBundles } from '../../services/import.js';
import { lockManifest, readManifest, writeLockFile } from '../../services/lock.js';
import { httpClient } from '../inputs.js';
import { createReporter } from '../progress.js';

const DEMO_FILES = ['README.txt', 'tools/hello-1.0.tar.gz', 'data/readings.json'];
const upstreamRoot = fileURLToPath(new URL('../../../../demo/upstream/', import.meta.url));

/** A local upstream standing in for the internet: the files shipped in demo/upstream. */
async function startUpstream(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = resolve(upstreamRoot, `.${decodeURIComponent((req.url ?? '/').split('?')[0]!)}`);
    if (!path.startsWith(upstreamRoot) || path.includes(`${sep}..`)) {
      res.writeHead(404).end();
      return;
    }
    stat(path).then(
      (s) => {
        if (!s.isFile()) throw new Error('not a file');
        res.writeHead(200, { 'content-length': s.size });
        createReadStream(path).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${addr.port}` };
}

function step(n: number, title: string, byHand: string): void {
  process.stdout.write(`\n${n}. ${title}\n   $ ${byHand}\n`);
}

function say(text: string): void {
  process.stdout.write(`   ${text}\n`);
}

async function runDemo(dir: string): Promise<void> {
  const reporter = process.env.AIRLOCK_DEMO_VERBOSE ? createReporter({ json: false }) : silentReporter;
  const upstream = await startUpstream();
  const low = await Store.open(join(dir, 'low'));
  const high = await Store.open(join(dir, 'high'));
  const http = await httpClient();
  const { buildServer } = await import('../../server/app.js');
  let app: FastifyInstance | undefined;
  try {
    const rel = (p: string): string => {
      const r = relative(process.cwd(), p);
      return r.startsWith('..') ? p : r || '.';
    };
    const yaml = join(dir, 'airlock.yaml');
    const lines = ['name: demo', 'target: { platforms: [linux/amd64] }', 'files:'];
    for (const f of DEMO_FILES) {
      lines.push(`  - url: ${upstream.url}/${f}`);
      // One entry without sha256 shows trust-on-first-use: lock records what it downloaded.
      if (f !== 'README.txt') lines.push(`    sha256: ${digestOf(await readFile(join(upstreamRoot, f))).slice(7)}`);
      lines.push(`    path: demo/${f}`);
    }
    await writeFile(yaml, `${lines.join('\n')}\n`);
    process.stdout.write(`airlock demo: a local upstream at ${upstream.url} serves ${DEMO_FILES.length} files from demo/upstream/;\n`);
    process.stdout.write(`the connected store is ${rel(join(dir, 'low'))}, the closed one ${rel(join(dir, 'high'))}.\n`);

    step(1, 'Lock: pin every file by digest and size', `airlock --home ${rel(join(dir, 'low'))} lock -f ${rel(yaml)}`);
    const lockPath = join(dir, 'airlock.lock');
    const lock = await lockManifest(
      await readManifest(yaml),
      { store: low, http, reporter, manifestDir: dir },
      { manifest: yaml, lock: lockPath },
    );
    await writeLockFile(lockPath, lock);
    for (const a of lock.artifacts) say(`${a.key}  ${a.size} bytes  ${a.digest.slice(0, 23)}…`);

    step(
      2,
      'Fetch: download what the store lacks, verifying each digest',
      `airlock --home ${rel(join(dir, 'low'))} fetch --lock ${rel(lockPath)}`,
    );
    const fetched = await fetchLock(lock, { store: low, http, reporter });
    say(`${fetched.downloaded} downloaded, ${fetched.present} already in the store`);

    // Half the payload plus room for metadata: two volumes, and the largest file travels in chunks.
    const split = Math.ceil(lock.artifacts.reduce((n, a) => n + entryCost(a.size), 0) / 2) + 8192;
    const out = join(dir, 'demo.airlock');
    step(
      3,
      'Bundle: a deterministic OCI-layout tar, split into volumes (a file larger than a volume travels in chunks)',
      `airlock --home ${rel(join(dir, 'low'))} bundle create --lock ${rel(lockPath)} -o ${rel(out)} --split ${split}`,
    );
    const bundle = await createBundle(low, lock, { out, split, sequence: 1, creator: 'airlock-demo', reporter });
    for (const f of bundle.files) say(`${rel(f)}  ${(await stat(f)).size} bytes`);
    say(`bundle id ${bundle.bundleId}`);

    step(4, 'Verify: check every digest, no store needed', `airlock bundle verify ${bundle.files.map(rel).join(' ')}`);
    const [v] = await verifyBundles(bundle.files, reporter);
    say(`${v!.verified.length}/${v!.volumes} volumes intact`);

    step(
      5,
      'Import on the closed side: visible only once every volume is in',
      `airlock --home ${rel(join(dir, 'high'))} import ${bundle.files.map(rel).join(' ')}`,
    );
    for (const r of await importBundles(high, [...bundle.files].reverse(), reporter)) {
      say(
        r.outcome === 'staged'
          ? `volume ${r.volume}: staged, waiting for ${r.missing.join(', ')}`
          : `volume ${r.volume}: ${r.outcome}, ${r.added} artifact(s) added`,
      );
    }

    app = await buildServer({ store: high, baseUrl: '', auth: 'none' });
    const served = await app.listen({ host: '127.0.0.1', port: 0 });
    step(6, 'Serve the closed store', `airlock --home ${rel(join(dir, 'high'))} serve --listen ${new URL(served).host}`);
    say(`serving at ${served}`);

    const want = lock.artifacts.find((a) => a.key === 'demo/tools/hello-1.0.tar.gz')!;
    step(7, 'Download a file as any client would', `curl -fSLO ${served}/files/${want.key}`);
    const dest = join(dir, 'downloaded.tar.gz');
    const got = await http.download({ url: `${served}/files/${want.key}`, dest, expectedDigest: want.digest, label: want.key });
    say(`${got.size} bytes, ${got.digest} — matches the upstream file`);
    process.stdout.write('\nThe demo ran the whole loop with no network beyond loopback. Next: README.md.\n');
  } finally {
    await app?.close();
    await http.close();
    await low.close();
    await high.close();
    await new Promise((r) => upstream.server.close(r));
  }
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('run the whole loop (lock, fetch, bundle, verify, import, serve, download) on files shipped with airlock')
    .option('--dir <dir>', "keep the demo's stores and bundles here (default: a temp dir, removed afterwards)")
    .action(async (o: { dir?: string }) => {
      const dir = o.dir ? resolve(o.dir) : await mkdtemp(join(tmpdir(), 'airlock-demo-'));
      if (o.dir) await mkdir(dir, { recursive: true });
      try {
        await runDemo(dir);
      } catch (e) {
        if (e instanceof AirlockError) throw e;
        throw new AirlockError('INTERNAL', `demo failed: ${(e as Error).message}`);
      } finally {
        if (!o.dir) await rm(dir, { recursive: true, force: true });
      }
    });
}
