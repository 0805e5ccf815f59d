import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RunResult, run } from './cli.js';

export type Docker = (args: string[], opts?: { input?: string }) => Promise<RunResult>;

/**
 * A Docker engine (Debian's dockerd) of the test's own, in `server`'s network namespace, so
 * the only registry it can reach is the airlock there. vfs storage and no bridge or iptables:
 * nothing of the host is touched. Returns a `docker` CLI bound to it, with its own config
 * directory for `docker login`.
 */
export async function startDocker(t: TestContext, server: ChildProcess, daemonJson: string): Promise<Docker> {
  // A short path of its own: the socket path must fit in 108 bytes, and the engine is stopped
  // before its files are removed.
  const dir = await mkdtemp(join(tmpdir(), 'airlock-docker-'));
  await writeFile(join(dir, 'daemon.json'), daemonJson);
  const socket = join(dir, 'sock');
  const engine = spawn(
    'nsenter',
    ['-t', String(server.pid), '-n', 'dockerd', '--config-file', join(dir, 'daemon.json'), '--data-root', join(dir, 'root'), '--exec-root', join(dir, 'exec'),
      '--pidfile', join(dir, 'pid'), '-H', `unix://${socket}`, '--iptables=false', '--ip6tables=false', '--bridge=none', '--storage-driver=vfs'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  engine.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => engine.once('exit', () => resolve()));
  t.after(async () => {
    engine.kill('SIGTERM');
    await Promise.race([exited, sleep(15_000, undefined, { ref: false })]);
    await rm(dir, { recursive: true, force: true });
  });
  const env = { DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: join(dir, 'config') };
  const docker: Docker = (args, opts = {}) =>
    opts.input === undefined ? run('docker', args, { env }) : run('sh', ['-c', 'printf "%s" "$0" | docker "$@"', opts.input, ...args], { env });
  for (let i = 0; i < 150; i++) {
    if (engine.exitCode !== null) throw new Error(`dockerd exited: ${log}`);
    if ((await docker(['version', '--format', '{{.Server.Version}}'])).code === 0) return docker;
    await sleep(200);
  }
  throw new Error(`dockerd did not come up: ${log}`);
}
