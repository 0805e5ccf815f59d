import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { Store } from '../../src/core/store.js';
import { writeLockFile } from '../../src/services/lock.js';
import { AIRLOCK, type RunResult, airlock, run } from '../helpers/cli.js';
import { bytes, seedLock } from '../helpers/seed.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Every command that takes a path, given bad ones. A missing parent directory is made; a
 * directory, a read-only place, /proc and a full file system are refused in one line naming
 * the path, exit 1, and leave nothing behind (no temp file, no partial bundle).
 */

interface World {
  dir: string;
  home: string;
  lock: string;
  key: string;
  bundle: string;
}

async function world(t: TestContext): Promise<World> {
  const dir = await tempDir(t);
  const home = join(dir, 'home');
  const store = await Store.open(home);
  // Larger than the 64 KiB tmpfs, so a bundle cannot fit there.
  const lockfile = await seedLock(store, { 'a.bin': bytes(150_000, 1), 'b.txt': Buffer.from('beta\n') }, 'bad-paths');
  await store.close();
  const lock = join(dir, 'airlock.lock');
  await writeLockFile(lock, lockfile);
  await writeFile(join(dir, 'airlock.yaml'), 'name: bad-paths\nfiles: []\n');
  const keys = join(dir, 'keys');
  const gen = await airlock(['--home', home, 'key', 'generate', '--name', 'k', '--out', keys]);
  assert.equal(gen.code, 0, gen.stderr);
  const bundle = join(dir, 'good.airlock');
  const made = await airlock(['--home', home, 'bundle', 'create', '--lock', lock, '-o', bundle]);
  assert.equal(made.code, 0, made.stderr);
  return { dir, home, lock, key: join(keys, 'k.key'), bundle };
}

/** `image save` checks its output before looking for the image, so no image is needed to see it refuse. */
function imageSave(w: World): (out: string) => string[] {
  return (out) => ['--home', w.home, 'image', 'save', 'example.invalid/none:1', '-o', out];
}

/** Commands that write a file the user names, as a function of that name. */
function writers(w: World): Record<string, (out: string) => string[]> {
  return {
    'bundle create -o': (out) => ['--home', w.home, 'bundle', 'create', '--lock', w.lock, '-o', out],
    'bundle create --split -o': (out) => ['--home', w.home, 'bundle', 'create', '--lock', w.lock, '--split', '100K', '-o', out],
    'lock -o': (out) => ['--home', w.home, 'lock', '-f', join(w.dir, 'airlock.yaml'), '-o', out],
    'audit export -o': (out) => ['--home', w.home, 'audit', 'export', '--key', w.key, '-o', out],
  };
}

/** Exit 1 and the error in one last line naming `path`; notes before it are fine, stack frames and hints are not. */
function assertOneLineError(r: RunResult, path: string, what: string): void {
  assert.equal(r.code, 1, `${what}: exit 1 (stderr: ${r.stderr})`);
  assert.match(r.stderr, /(^|\n)airlock: error: [^\n]+\n$/, `${what}: the error is the last line, got ${JSON.stringify(r.stderr)}`);
  assert.equal(
    r.stderr.split('\n').filter((l) => l.startsWith('airlock:')).length,
    1,
    `${what}: one error line, got ${JSON.stringify(r.stderr)}`,
  );
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at |^hint:/m, what);
  const line = r.stderr.trimEnd().split('\n').at(-1)!;
  assert.ok(line.includes(path), `${what}: the message names ${path}: ${line}`);
}

/** Files a failed write must not leave: temp files, and anything named like the output. */
function leftovers(names: string[], base: string): string[] {
  return names.filter((n) => n.startsWith('.tmp-') || n.startsWith(base));
}

test('a missing parent directory of an output is created', async (t) => {
  const w = await world(t);
  for (const [what, args] of Object.entries(writers(w))) {
    const out = join(w.dir, 'new', what.replace(/[^a-z]+/g, '-'), 'deeper', 'out.file');
    const r = await airlock(args(out), { cwd: w.dir });
    assert.equal(r.code, 0, `${what}: ${r.stderr}`);
    const made = what.includes('--split') ? await readdir(join(out, '..')) : [];
    if (what.includes('--split'))
      assert.ok(
        made.some((n) => n.startsWith('out.file.vol-001-of-')),
        `${what}: ${made.join(', ')}`,
      );
    else assert.ok((await stat(out)).isFile(), what);
  }
  const keys = join(w.dir, 'new', 'keys', 'deeper');
  const gen = await airlock(['--home', w.home, 'key', 'generate', '--name', 'k2', '--out', keys]);
  assert.equal(gen.code, 0, gen.stderr);
  assert.ok((await stat(join(keys, 'k2.pub'))).isFile());
});

test('an existing directory as an output is refused before anything is written', async (t) => {
  const w = await world(t);
  const target = join(w.dir, 'already-a-dir');
  await mkdir(target);
  for (const [what, args] of Object.entries({ ...writers(w), 'image save -o': imageSave(w) })) {
    const r = await airlock(args(target), { cwd: w.dir });
    assertOneLineError(r, target, what);
    assert.match(r.stderr, /is a directory/, what);
    assert.deepEqual(await readdir(target), [], what);
    assert.deepEqual(leftovers(await readdir(w.dir), 'already-a-dir.'), [], what);
  }
});

test('a Node error that reaches the top unwrapped but names its file is one line with that path, not "internal error"', async (t) => {
  const w = await world(t);
  const keys = join(w.dir, 'keys');
  await mkdir(join(keys, 'k5.pub'));
  const r = await airlock(['--home', w.home, 'key', 'generate', '--name', 'k5', '--out', keys]);
  assertOneLineError(r, join(keys, 'k5.pub'), 'key generate over a directory');
  assert.match(r.stderr, /k5\.pub: is a directory\n$/);
});

test('/proc and /sys as outputs are refused in one line (and never hang)', async (t) => {
  const w = await world(t);
  for (const [what, args] of Object.entries({ ...writers(w), 'image save -o': imageSave(w) })) {
    for (const out of ['/proc/airlock-out', '/proc/airlock-dir/out', '/sys/airlock-out']) {
      const r = await run('timeout', ['60', AIRLOCK, ...args(out)], { cwd: w.dir });
      assertOneLineError(r, out, `${what} ${out}`);
    }
  }
  const gen = await run('timeout', ['60', AIRLOCK, '--home', w.home, 'key', 'generate', '--name', 'k3', '--out', '/proc/airlock-keys']);
  assertOneLineError(gen, '/proc/airlock-keys', 'key generate --out');
});

test('import and bundle inspect/verify of a directory, a text file or a missing file: one line naming it', async (t) => {
  const w = await world(t);
  const notes = join(w.dir, 'notes.txt');
  await writeFile(notes, 'these are my notes, not a bundle\n'.repeat(40));
  const cases: [string, RegExp][] = [
    [w.dir, /is a directory/],
    [notes, /not an airlock bundle \(no tar header at the start\)/],
    [join(w.dir, 'nope.airlock'), /no such file/],
  ];
  for (const [path, why] of cases) {
    for (const cmd of [['import'], ['bundle', 'inspect'], ['bundle', 'verify']]) {
      const r = await airlock(['--home', w.home, ...cmd, path]);
      assertOneLineError(r, path.split('/').at(-1)!, `${cmd.join(' ')} ${path}`);
      assert.match(r.stderr, why, `${cmd.join(' ')} ${path}`);
    }
  }
});

test('an unusable --home (a file, /proc, /sys) is refused in one line naming it', async (t) => {
  const w = await world(t);
  const file = join(w.dir, 'a-file');
  await writeFile(file, 'x');
  for (const home of [file, join(file, 'below'), '/proc/airlock-home', '/sys/airlock-home']) {
    const r = await run('timeout', ['60', AIRLOCK, '--home', home, 'list']);
    assertOneLineError(r, home, `--home ${home}`);
  }
  assert.equal(await readFile(file, 'utf8'), 'x');
});

const MOUNTS = `set -e
mount -t tmpfs -o size=\${FULL_SIZE:-64k} airlock-full "$FULL"
[ -n "$FULL_SIZE" ] || dd if=/dev/zero of="$FULL/filler" bs=4096 2>/dev/null || true
mount -t tmpfs -o ro airlock-ro "$RO"
set +e
"$@"
rc=$?
(cd "$FULL" && find . -mindepth 1 | sort) > "$LISTING.full"
(cd "$RO" && find . -mindepth 1 | sort) > "$LISTING.ro"
exit $rc`;

/**
 * Runs airlock in its own mount namespace with a full 64 KiB tmpfs at FULL (or an empty one
 * of `fullSize`) and a read-only tmpfs at RO; what each held afterwards is read back, since
 * the mounts vanish with it.
 */
async function withMounts(
  dir: string,
  args: string[],
  o: { fullSize?: string; command?: string } = {},
): Promise<RunResult & { full: string[]; ro: string[] }> {
  const env = {
    FULL: join(dir, 'full'),
    RO: join(dir, 'ro'),
    LISTING: join(dir, 'listing'),
    ...(o.fullSize ? { FULL_SIZE: o.fullSize } : {}),
  };
  const r = await run('unshare', ['-m', 'sh', '-c', MOUNTS, 'sh', o.command ?? AIRLOCK, ...args], { env, cwd: dir });
  const list = async (f: string): Promise<string[]> => (await readFile(f, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  return { ...r, full: await list(`${env.LISTING}.full`), ro: await list(`${env.LISTING}.ro`) };
}

async function mountsWork(dir: string): Promise<boolean> {
  await mkdir(join(dir, 'full'), { recursive: true });
  await mkdir(join(dir, 'ro'), { recursive: true });
  const r = await run('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=64k probe "$0"', join(dir, 'full')]);
  return r.code === 0;
}

test('a read-only place and a full file system: refused in one line, nothing left behind', async (t) => {
  const w = await world(t);
  if (!(await mountsWork(w.dir))) {
    t.skip('cannot mount a tmpfs here (needs root and unshare -m)');
    return;
  }
  for (const [what, args] of Object.entries(writers(w))) {
    const ro = join(w.dir, 'ro', 'sub', 'out.airlock');
    const r = await withMounts(w.dir, args(ro));
    assertOneLineError(r, ro, `${what} read-only`);
    assert.match(r.stderr, /read-only file system/, what);
    assert.deepEqual(r.ro, [], `${what}: nothing in the read-only place`);

    const full = join(w.dir, 'full', 'out.airlock');
    const f = await withMounts(w.dir, args(full));
    // A set names the volume that did not fit: out.vol-001-of-002.airlock.
    assertOneLineError(f, join(w.dir, 'full', 'out.'), `${what} full`);
    assert.match(f.stderr, /no space left on the device/, what);
    assert.deepEqual(f.full, ['./filler'], `${what}: no temp file or partial output on the full file system`);
  }
  const ro = join(w.dir, 'ro', 'image.tar');
  const image = await withMounts(w.dir, imageSave(w)(ro));
  assertOneLineError(image, ro, 'image save -o read-only');
  const bundle = await withMounts(w.dir, writers(w)['bundle create -o']!(join(w.dir, 'full', 'out.airlock')));
  assert.match(bundle.stderr, /out\.airlock: no space left on the device: it needs \d+ bytes, \d+ are free; nothing was written/);
  for (const home of [join(w.dir, 'ro', 'home')]) {
    const r = await withMounts(w.dir, ['--home', home, 'list']);
    assertOneLineError(r, home, '--home read-only');
  }
  const sign = await withMounts(w.dir, ['--home', w.home, 'key', 'generate', '--name', 'k4', '--out', join(w.dir, 'ro', 'keys')]);
  assertOneLineError(sign, join(w.dir, 'ro', 'keys'), 'key generate --out read-only');
});

test('import into a store whose file system fills up: one line naming the bundle and the store, nothing staged', async (t) => {
  const dir = await tempDir(t);
  if (!(await mountsWork(dir))) {
    t.skip('cannot mount a tmpfs here (needs root and unshare -m)');
    return;
  }
  const store = await Store.open(join(dir, 'low'));
  const lockfile = await seedLock(store, { 'big.bin': bytes(2_000_000, 7) }, 'too-big');
  await store.close();
  const lock = join(dir, 'airlock.lock');
  await writeLockFile(lock, lockfile);
  const bundle = join(dir, 'too-big.airlock');
  assert.equal((await airlock(['--home', join(dir, 'low'), 'bundle', 'create', '--lock', lock, '-o', bundle])).code, 0);
  const home = join(dir, 'full', 'home');
  // 1 MiB: room for the store's database, not for the 2 MB blob.
  const r = await withMounts(dir, ['--home', home, 'import', bundle], { fullSize: '1m' });
  assertOneLineError(r, bundle, 'import into a full store');
  assert.match(
    r.stderr,
    new RegExp(
      `cannot stage into the store at ${home} \\(no space left on the device\\): the bundle needs 2000000 bytes, \\d+ are free\\n$`,
    ),
  );
  const staged = r.full.filter((p) => /^\.\/home\/(staging|tmp|blobs)\/./.test(p) || p.includes('.tmp-'));
  assert.deepEqual(staged, [], 'nothing staged or half-written in the store');

  // Two volumes whose chunks fit when staged, but not once more while being joined back together.
  const set = await airlock([
    '--home',
    join(dir, 'low'),
    'bundle',
    'create',
    '--lock',
    lock,
    '--split',
    '1100K',
    '-o',
    join(dir, 'set.airlock'),
  ]);
  assert.equal(set.code, 0, set.stderr);
  const volumes = set.stdout.trim().split('\n');
  assert.equal(volumes.length, 2);
  const joined = await withMounts(dir, ['--home', home, 'import', ...volumes], { fullSize: '3m' });
  assertOneLineError(
    joined,
    `bundle too-big: cannot finish the import into the store at ${home} (no space left on the device)`,
    'reassembly on a full store',
  );
  assert.deepEqual(
    joined.full.filter((p) => p.includes('.tmp-')),
    [],
    'no half-joined blob left',
  );
});

test('a blob written into a store on a full file system names the artifact and the store', async (t) => {
  const dir = await tempDir(t);
  if (!(await mountsWork(dir))) {
    t.skip('cannot mount a tmpfs here (needs root and unshare -m)');
    return;
  }
  const blobstore = new URL('../../src/core/fs-blobstore.js', import.meta.url).href;
  const script = `const { FsBlobStore } = await import(${JSON.stringify(blobstore)});
const { Readable } = await import('node:stream');
const root = process.env.FULL + '/blobs';
const s = new FsBlobStore(root, process.env.FULL + '/tmp');
await s.put(Readable.from([Buffer.alloc(200000)]), 'files:upload.bin').then(() => console.log('stored'), (e) => console.log(e.message));`;
  const r = await withMounts(dir, ['--input-type=module', '-e', script], { fullSize: '64k', command: process.execPath });
  assert.ok(
    r.stdout.startsWith(`files:upload.bin: cannot write to the store at ${join(dir, 'full', 'blobs')} (no space left on the device)`),
    r.stdout + r.stderr,
  );
  assert.deepEqual(
    r.full.filter((p) => p.includes('.tmp-')),
    [],
  );
});
