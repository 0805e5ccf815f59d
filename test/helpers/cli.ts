import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

export const AIRLOCK = fileURLToPath(new URL('../../../bin/airlock', import.meta.url));
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, capturing its output. */
export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, cwd: opts.cwd ?? REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** In a fresh network namespace: loopback (brought up inside) and no route anywhere else. */
const OFFLINE = ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', AIRLOCK];

/** `bin/airlock ARGS`, optionally with no network at all (`unshare -n`). */
export function airlock(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; offline?: boolean } = {}): Promise<RunResult> {
  return opts.offline ? run('unshare', [...OFFLINE, ...args], opts) : run(AIRLOCK, args, opts);
}

/**
 * Starts `airlock serve` in its own network namespace (only loopback, brought up inside).
 * Clients reach it with `inNamespace(server, ...)`, which enters that namespace.
 */
export async function serveOffline(t: TestContext, args: string[]): Promise<ChildProcess> {
  const child = spawn('unshare', [...OFFLINE, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    cwd: REPO,
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  t.after(() => {
    child.kill('SIGTERM');
  });
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`serve exited early: ${stderr}`);
    const r = await inNamespace(child, 'curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://127.0.0.1:8080/healthz']);
    if (r.stdout === '200') return child;
    await sleep(100);
  }
  throw new Error(`serve did not come up: ${stderr}`);
}

export function inNamespace(server: ChildProcess, cmd: string, args: string[]): Promise<RunResult> {
  return run('nsenter', ['-t', String(server.pid), '-n', cmd, ...args]);
}
