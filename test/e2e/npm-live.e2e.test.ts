import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { airlock, inNamespace, run, serveOffline } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * A real tree from the registry the user's npm is configured with (express, and esbuild with
 * its per-platform binaries), for two Linux targets, carried to an offline store and
 * installed there with `npm ci`. Opt in with AIRLOCK_LIVE_NPM=1: it needs that registry.
 */
test(
  'npm (live): express and esbuild from the configured registry → bundle → offline npm ci',
  { skip: !process.env.AIRLOCK_LIVE_NPM },
  async (t) => {
    const dir = await tempDir(t);
    const project = join(dir, 'project');
    await mkdir(project);
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: 'live', version: '1.0.0', private: true, dependencies: { express: '^4', esbuild: '^0.25' } }),
    );
    const locked = await run('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund', '--cache', join(dir, 'cache')], {
      cwd: project,
    });
    assert.equal(locked.code, 0, locked.stderr);
    await writeFile(
      join(dir, 'airlock.yaml'),
      'name: live\ntarget: { platforms: [linux/amd64, linux/arm64] }\nnpm:\n  lockfiles: [project/package-lock.json]\n',
    );
    const low = join(dir, 'low');
    for (const args of [['lock'], ['fetch'], ['bundle', 'create', '-o', 'live.airlock']]) {
      const r = await airlock(['--home', low, ...args], { cwd: dir });
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    const keys = (JSON.parse(await readFile(join(dir, 'airlock.lock'), 'utf8')) as { artifacts: { key: string }[] }).artifacts.map(
      (a) => a.key,
    );
    assert.ok(keys.some((k) => k.startsWith('@esbuild/linux-x64@')) && keys.some((k) => k.startsWith('@esbuild/linux-arm64@')));
    assert.ok(!keys.some((k) => k.startsWith('@esbuild/darwin-')), 'no darwin binaries for Linux targets');

    const high = join(dir, 'high');
    assert.equal((await airlock(['--home', high, 'import', join(dir, 'live.airlock')], { offline: true })).code, 0);
    const server = await serveOffline(t, ['--home', high, 'serve', '--listen', '127.0.0.1:8080']);
    const closed = join(dir, 'closed');
    await mkdir(closed);
    for (const f of ['package.json', 'package-lock.json']) await copyFile(join(project, f), join(closed, f));
    const rc = join(dir, 'closed.npmrc');
    await writeFile(
      rc,
      `${(await airlock(['client-config', 'npm', '--url', 'http://127.0.0.1:8080'])).stdout.replace('${AIRLOCK_TOKEN}', 'none')}audit=false\nfund=false\nupdate-notifier=false\n`,
    );
    const ci = await inNamespace(server, 'sh', [
      '-c',
      `cd '${closed}' && npm ci --userconfig '${rc}' --cache '${join(dir, 'cache-closed')}'`,
    ]);
    assert.equal(ci.code, 0, ci.stdout + ci.stderr);
    const version = await run(join(closed, 'node_modules', '.bin', 'esbuild'), ['--version']);
    assert.match(version.stdout, /^0\.25\./);
  },
);
