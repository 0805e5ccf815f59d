/**
 * npm benchmarks against Verdaccio in the same run:
 * - packument requests per second (abbreviated, as `npm install` asks), wrk on loopback;
 * - tarball requests per second, the same way;
 * - `npm ci` wall time of a 300-package project from each registry, fresh cache each run.
 * Verdaccio (6, no uplinks) is installed on first use under ~/.cache/airlock-bench with the
 * npm override node-fetch → 2.7.0. Needs wrk. Timings are printed, never asserted.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { freePort } from '../test/helpers/oci.js';
import { AIRLOCK, median, must, peakRssMb, timed, waitFor, wrk } from './util.js';

const PACKAGES = 300;
const CI_RUNS = 5;
const ABBREVIATED = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';

async function verdaccioBin(): Promise<string> {
  const dir = join(homedir(), '.cache', 'airlock-bench', 'verdaccio');
  const bin = join(dir, 'node_modules', '.bin', 'verdaccio');
  if (existsSync(bin)) return bin;
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'package.json'),
    JSON.stringify({ private: true, dependencies: { verdaccio: '^6' }, overrides: { 'node-fetch': '2.7.0' } }),
  );
  must('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });
  return bin;
}

async function tgz(name: string, manifest: Record<string, unknown>): Promise<Buffer> {
  const pack = tar.pack();
  const files: Record<string, string> = {
    'package/package.json': JSON.stringify(manifest, null, 2),
    'package/index.js': `module.exports = ${JSON.stringify(name)};\n`,
  };
  for (const [f, body] of Object.entries(files)) pack.entry({ name: f, mtime: new Date(0), mode: 0o644 }, body);
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const c of pack) parts.push(c as Buffer);
  return gzipSync(Buffer.concat(parts));
}

/** Publishes one version with npm's own PUT body (what `npm publish` sends). */
async function publish(registry: string, name: string, deps: Record<string, string>, token?: string): Promise<void> {
  const manifest = { name, version: '1.0.0', main: 'index.js', dependencies: deps };
  const data = await tgz(name, manifest);
  const dist = {
    integrity: `sha512-${createHash('sha512').update(data).digest('base64')}`,
    shasum: createHash('sha1').update(data).digest('hex'),
    tarball: `${registry}${name}/-/${name}-1.0.0.tgz`,
  };
  const res = await fetch(`${registry}${name}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({
      _id: name,
      name,
      'dist-tags': { latest: '1.0.0' },
      versions: { '1.0.0': { ...manifest, dist } },
      _attachments: {
        [`${name}-1.0.0.tgz`]: { content_type: 'application/octet-stream', data: data.toString('base64'), length: data.length },
      },
    }),
  });
  if (res.status >= 300) throw new Error(`publish ${name} to ${registry}: ${res.status} ${await res.text()}`);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'airlock-bench-npm-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    const start = async (cmd: string, args: string[], health: string) => {
      const child = spawn(cmd, args, { stdio: 'ignore' });
      stops.push(async () => {
        child.kill('SIGTERM');
        await once(child, 'exit');
      });
      await waitFor(health);
      return child;
    };
    const vPort = await freePort();
    await writeFile(
      join(dir, 'verdaccio.yaml'),
      `storage: ${join(dir, 'vstorage')}\nauth: { htpasswd: { file: ${join(dir, 'htpasswd')}, max_users: -1 } }\nuplinks: {}\npackages:\n  '**': { access: $all, publish: $all }\nmax_body_size: 100mb\nlog: { type: stdout, format: pretty, level: error }\n`,
    );
    await start(
      await verdaccioBin(),
      ['--config', join(dir, 'verdaccio.yaml'), '--listen', `127.0.0.1:${vPort}`],
      `http://127.0.0.1:${vPort}/-/ping`,
    );
    const verdaccio = `http://127.0.0.1:${vPort}/`;

    const home = join(dir, 'home');
    const token = must(AIRLOCK, ['--home', home, 'token', 'create', '--name', 'bench', '--role', 'publisher']).trim();
    const aPort = await freePort();
    const server = await start(AIRLOCK, ['--home', home, 'serve', '--listen', `127.0.0.1:${aPort}`], `http://127.0.0.1:${aPort}/healthz`);
    const airlock = `http://127.0.0.1:${aPort}/npm/`;

    const name = (i: number) => `pkg${String(i).padStart(3, '0')}`;
    for (let i = 0; i < PACKAGES; i++) {
      const deps = Object.fromEntries(
        [1, 2, 3]
          .map((d) => i + d)
          .filter((j) => j < PACKAGES)
          .map((j) => [name(j), '^1.0.0']),
      );
      await publish(airlock, name(i), deps, token);
      await publish(verdaccio, name(i), deps);
    }
    const project = join(dir, 'project');
    await mkdir(project);
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'bench', version: '1.0.0', private: true, dependencies: { [name(0)]: '^1.0.0' } }),
    );
    must('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund', '--registry', airlock, '--cache', join(dir, 'cache-lock')], {
      cwd: project,
    });

    const ci = (registry: string) =>
      median(
        Array.from({ length: CI_RUNS }, (_, i) => {
          must('rm', ['-rf', join(project, 'node_modules'), join(dir, `cache-${i}`)]);
          return timed('npm', [
            'ci',
            '--prefix',
            project,
            '--no-audit',
            '--no-fund',
            '--registry',
            registry,
            '--replace-registry-host=always',
            '--cache',
            join(dir, `cache-${i}`),
          ]);
        }),
      );
    const ciAirlock = ci(airlock);
    const ciVerdaccio = ci(verdaccio);
    const installed = must('sh', ['-c', `ls ${project}/node_modules | wc -l`]).trim();
    const rpsAirlock = wrk(`${airlock}${name(0)}`, ABBREVIATED);
    const rpsVerdaccio = wrk(`${verdaccio}${name(0)}`, ABBREVIATED);
    const tgzAirlock = wrk(`${airlock}${name(0)}/-/${name(0)}-1.0.0.tgz`);
    const tgzVerdaccio = wrk(`${verdaccio}${name(0)}/-/${name(0)}-1.0.0.tgz`);
    const rss = await peakRssMb(server.pid!);

    process.stdout.write(
      `airlock npm bench: ${PACKAGES} packages (${installed} in node_modules), npm ci median of ${CI_RUNS}, fresh cache each run\n\n`,
    );
    process.stdout.write(
      `packument  airlock ${rpsAirlock.toFixed(0)} req/s   Verdaccio ${rpsVerdaccio.toFixed(0)} req/s   ratio ${(rpsAirlock / rpsVerdaccio).toFixed(2)} (wrk -t2 -c32 -d5s)\n`,
    );
    process.stdout.write(
      `tarball    airlock ${tgzAirlock.toFixed(0)} req/s   Verdaccio ${tgzVerdaccio.toFixed(0)} req/s   ratio ${(tgzAirlock / tgzVerdaccio).toFixed(2)}\n`,
    );
    process.stdout.write(
      `npm ci     airlock ${ciAirlock.toFixed(2)} s   Verdaccio ${ciVerdaccio.toFixed(2)} s   ratio ${(ciAirlock / ciVerdaccio).toFixed(2)}\n`,
    );
    process.stdout.write(`airlock serve peak RSS ${rss.toFixed(0)} MB\n`);
  } finally {
    for (const s of stops.reverse()) await s();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
