import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { digestOf } from '../../src/core/digest.js';
import { Store } from '../../src/core/store.js';
import { writeLockFile } from '../../src/services/lock.js';
import { AIRLOCK, REPO, run } from '../helpers/cli.js';
import { seedLock } from '../helpers/seed.js';
import { tempDir } from '../helpers/tmp.js';

/** A store holding four 50 MB files and their lock: big enough to interrupt mid-bundle. */
async function bigWorld(t: TestContext): Promise<{ dir: string; home: string; lock: string }> {
  const dir = await tempDir(t);
  const home = join(dir, 'home');
  const store = await Store.open(home);
  const files: Record<string, Buffer> = {};
  for (let i = 1; i <= 4; i++) files[`big/${i}.bin`] = randomBytes(50_000_000);
  const lock = join(dir, 'airlock.lock');
  await writeLockFile(lock, await seedLock(store, files, 'big'));
  await store.close();
  return { dir, home, lock };
}

/** The environment of a user at a terminal: CI makes airlock print plain lines instead of bars. */
function userEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.CI;
  return env;
}

test('bundle create interrupted after its first volume leaves neither a temp file nor any volume of the set', async (t) => {
  const { dir, home, lock } = await bigWorld(t);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const outDir = join(dir, `out-${signal}`);
    await mkdir(outDir);
    const child = spawn(
      AIRLOCK,
      ['--home', home, 'bundle', 'create', '--lock', lock, '--split', '60M', '-o', join(outDir, 'big.airlock')],
      {
        cwd: REPO,
        env: userEnv(),
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = once(child, 'exit');
    let seen: string[] = [];
    for (let i = 0; i < 3000 && child.exitCode === null; i++) {
      seen = await readdir(outDir);
      if (seen.some((n) => n.startsWith('big.vol-001-of-'))) break;
      await sleep(10);
    }
    assert.ok(
      seen.some((n) => n.startsWith('big.vol-001-of-')),
      `the first volume appeared (saw ${seen.join(', ')}; ${stderr})`,
    );
    child.kill(signal);
    const [code, sig] = await exited;
    assert.equal(sig, null, `${signal}: exits itself rather than dying of the signal (${stderr})`);
    assert.equal(code, signal === 'SIGINT' ? 130 : 143, stderr);
    assert.deepEqual(await readdir(outDir), [], `${signal}: nothing left of the set`);
    assert.match(stderr, new RegExp(`airlock: interrupted \\(${signal}\\)`));
    assert.doesNotMatch(stderr, /internal error|\n\s+at /);
  }
});

/** An upstream that sends the first 64 KiB of `size` bytes at once, then a trickle that never ends. */
async function slowUpstream(t: TestContext, size: number): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': size });
    res.write(Buffer.alloc(64 * 1024));
    const timer = setInterval(() => res.write(Buffer.alloc(1024)), 100);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('fetch interrupted while drawing progress bars on a terminal shows the cursor and turns line wrap back on', async (t) => {
  const dir = await tempDir(t);
  const size = 10_000_000;
  const url = `${await slowUpstream(t, size)}/slow.bin`;
  const digest = digestOf(Buffer.from('what the upstream will never finish sending'));
  const lock = join(dir, 'airlock.lock');
  await writeLockFile(lock, {
    lockVersion: 1,
    name: 'slow',
    target: { platforms: ['linux/amd64'], python: [] },
    artifacts: [
      {
        ecosystem: 'files',
        key: 'slow.bin',
        name: 'slow.bin',
        version: '',
        digest,
        size,
        source: url,
        metadata: {},
        blobs: [{ digest, size, url }],
      },
    ],
  });
  const typescript = join(dir, 'typescript');
  // script(1) gives airlock a pseudo-terminal and logs everything written to it (-f: as it comes).
  const cmd = `exec ${AIRLOCK} --home ${join(dir, 'home')} fetch --lock ${lock}`;
  const child = spawn('script', ['-qfec', cmd, typescript], {
    cwd: REPO,
    env: { ...userEnv(), NO_PROXY: '127.0.0.1' },
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const exited = once(child, 'exit');
  const log = async (): Promise<string> => readFile(typescript, 'latin1').catch(() => '');
  let text = '';
  for (let i = 0; i < 3000 && child.exitCode === null; i++) {
    text = await log();
    if (text.includes('\x1b[?25l') && text.includes('slow.bin [')) break;
    await sleep(10);
  }
  assert.ok(
    text.includes('\x1b[?25l') && text.includes('\x1b[?7l'),
    `the bars hid the cursor and turned wrap off: ${JSON.stringify(text)}`,
  );
  const ps = await run('ps', ['-o', 'pid=', '--ppid', String(child.pid)]);
  const pid = Number(ps.stdout.trim());
  assert.ok(pid > 0, `found airlock under script: ${ps.stdout}`);
  process.kill(pid, 'SIGINT');
  const [code] = await exited;
  assert.equal(code, 130);
  const after = (await log()).slice(text.lastIndexOf('\x1b[?25l'));
  assert.ok(after.includes('\x1b[?25h'), 'cursor shown again');
  assert.ok(after.includes('\x1b[?7h'), 'line wrap on again');
  assert.match(after, /airlock: interrupted \(SIGINT\)/);
});
