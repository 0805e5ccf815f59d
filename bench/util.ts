/** Pieces every benchmark uses: commands that must succeed, timings, medians, an nginx peer. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const AIRLOCK = join(ROOT, 'bin/airlock');
export const RUNS = 3;

export function must(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error}`);
  return r.stdout;
}

export function timed(cmd: string, args: string[]): number {
  const start = process.hrtime.bigint();
  must(cmd, args);
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * nginx with one worker on `root`. `sendfile` is off unless asked for (nginx's own default;
 * Debian's packaged nginx.conf turns it on), so by default nginx copies through user space as
 * airlock does.
 */
export async function nginx(dir: string, root: string, port: number, opts: { sendfile?: boolean } = {}): Promise<() => Promise<void>> {
  const conf = join(dir, `nginx-${port}.conf`);
  await writeFile(
    conf,
    `worker_processes 1; daemon off; pid ${dir}/nginx-${port}.pid; error_log ${dir}/nginx-${port}.log;
events { worker_connections 1024; }
http { access_log off; include /etc/nginx/mime.types; default_type text/html; sendfile ${opts.sendfile ? 'on' : 'off'};
  server { listen 127.0.0.1:${port}; root ${root}; index index.html; } }\n`,
  );
  const child = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'ignore' });
  await waitFor(`http://127.0.0.1:${port}/`);
  return async () => {
    child.kill('SIGQUIT');
    await once(child, 'exit');
  };
}

/** Until something answers at `url` (any status), for at most 10 s. */
export async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (spawnSync('curl', ['-s', '-o', '/dev/null', url]).status === 0) return;
    await sleep(100);
  }
  throw new Error(`nothing answers at ${url}`);
}

/** Requests per second wrk measures (2 threads, 32 connections, 5 s). */
export function wrk(url: string, accept?: string): number {
  const out = must('wrk', ['-t2', '-c32', '-d5s', ...(accept ? ['-H', `Accept: ${accept}`] : []), url]);
  const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (!m) throw new Error(`wrk printed no rate:\n${out}`);
  return Number(m[1]);
}

/** `airlock serve` on a free loopback port, stopped by the cleanup it registers. */
export async function serveAirlock(home: string, port: number, cleanups: (() => unknown)[]): Promise<ChildProcess> {
  const server = spawn(AIRLOCK, ['--home', home, 'serve', '--listen', `127.0.0.1:${port}`], { stdio: 'ignore' });
  cleanups.push(async () => {
    server.kill('SIGTERM');
    await once(server, 'exit');
  });
  await waitFor(`http://127.0.0.1:${port}/healthz`);
  return server;
}

export interface Measured {
  seconds: number;
  peakRssMb?: number;
}

/** Runs a command; for airlock, samples VmHWM (peak resident set) until it exits. */
export async function measure(cmd: string, args: string[], sampleRss: boolean): Promise<Measured> {
  const start = process.hrtime.bigint();
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let peak = 0;
  const timer = sampleRss
    ? setInterval(() => {
        readFile(`/proc/${child.pid}/status`, 'utf8').then(
          (s) => {
            const m = /VmHWM:\s+(\d+) kB/.exec(s);
            if (m) peak = Math.max(peak, Number(m[1]) / 1024);
          },
          () => {},
        );
      }, 20)
    : undefined;
  const [code] = (await once(child, 'exit')) as [number | null];
  if (timer) clearInterval(timer);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr}`);
  return sampleRss ? { seconds, peakRssMb: peak } : { seconds };
}

/** A process's peak resident set so far, in MB (VmHWM). */
export async function peakRssMb(pid: number): Promise<number> {
  return Number(/VmHWM:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

/** The `after` half of a TestContext, so benches can reuse the test helpers that start servers. */
export function cleanupContext(cleanups: (() => unknown)[]): TestContext {
  return { after: (fn: () => unknown) => cleanups.push(fn) } as unknown as TestContext;
}

/** User + system CPU seconds a process has used so far (/proc/PID/stat, in clock ticks of 1/100 s). */
export async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The pid of the newest nginx worker process, whose CPU is the peer's. */
export function nginxWorker(): number {
  return Number(must('pgrep', ['-f', 'nginx: worker process']).trim().split('\n').at(-1));
}
