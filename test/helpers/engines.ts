import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RunResult, inNamespace, run } from './cli.js';

export type Client = (args: string[], opts?: { input?: string }) => Promise<RunResult>;

/**
 * A container engine daemon of the test's own in `server`'s network namespace, so the only
 * registry it can reach is the airlock there. It lives in a short directory of its own (a
 * socket path must fit in 108 bytes), stopped before that directory is removed.
 */
async function startDaemon(
  t: TestContext,
  server: ChildProcess,
  name: string,
  command: (dir: string) => Promise<string[]>,
  ready: (dir: string) => Promise<boolean>,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `airlock-${name}-`));
  const daemon = spawn('nsenter', ['-t', String(server.pid), '-n', ...(await command(dir))], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  daemon.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  t.after(async () => {
    daemon.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000, undefined, { ref: false })]);
    await rm(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < 150; i++) {
    if (daemon.exitCode !== null) throw new Error(`${name} exited: ${log}`);
    if (await ready(dir)) return dir;
    await sleep(200);
  }
  throw new Error(`${name} did not come up: ${log}`);
}

/**
 * Debian's dockerd with vfs storage and no bridge or iptables (nothing of the host touched),
 * configured by `daemonJson`. Returns a `docker` CLI bound to it, with its own config
 * directory for `docker login`.
 */
export async function startDocker(t: TestContext, server: ChildProcess, daemonJson: string): Promise<Client> {
  const envOf = (dir: string) => ({ DOCKER_HOST: `unix://${join(dir, 'sock')}`, DOCKER_CONFIG: join(dir, 'config') });
  const client =
    (dir: string): Client =>
    (args, opts = {}) =>
      opts.input === undefined
        ? run('docker', args, { env: envOf(dir) })
        : run('sh', ['-c', 'printf "%s" "$0" | docker "$@"', opts.input, ...args], { env: envOf(dir) });
  const dir = await startDaemon(
    t,
    server,
    'docker',
    async (d) => {
      await writeFile(join(d, 'daemon.json'), daemonJson);
      return [
        'dockerd',
        '--config-file',
        join(d, 'daemon.json'),
        '--data-root',
        join(d, 'root'),
        '--exec-root',
        join(d, 'exec'),
        '--pidfile',
        join(d, 'pid'),
        '-H',
        `unix://${join(d, 'sock')}`,
        '--iptables=false',
        '--ip6tables=false',
        '--bridge=none',
        '--storage-driver=vfs',
      ];
    },
    async (d) => (await client(d)(['version', '--format', '{{.Server.Version}}'])).code === 0,
  );
  return client(dir);
}

/**
 * Debian's containerd (its CRI plugin off). Returns `ctr` bound to it, run in the namespace:
 * ctr itself fetches what `ctr images pull` asks for.
 */
export async function startContainerd(t: TestContext, server: ChildProcess): Promise<Client> {
  const client =
    (dir: string): Client =>
    (args) =>
      inNamespace(server, 'ctr', ['--address', join(dir, 'sock'), '--namespace', 'airlock-test', ...args]);
  const dir = await startDaemon(
    t,
    server,
    'containerd',
    async (d) => {
      await writeFile(
        join(d, 'config.toml'),
        [
          'version = 2',
          `root = "${join(d, 'root')}"`,
          `state = "${join(d, 'state')}"`,
          'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
          '[grpc]',
          `  address = "${join(d, 'sock')}"`,
          '',
        ].join('\n'),
      );
      return ['containerd', '--config', join(d, 'config.toml')];
    },
    async (d) => (await client(d)(['version'])).code === 0,
  );
  return client(dir);
}
