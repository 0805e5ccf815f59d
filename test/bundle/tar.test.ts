import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { test } from 'node:test';
import { type TarEntry, type TarLimits, createTarWriter, readTar } from '../../src/bundle/tar.js';
import { isAirlockError } from '../../src/core/errors.js';
import { craftTar } from '../helpers/craft.js';
import { bytes } from '../helpers/seed.js';
import { tempDir } from '../helpers/tmp.js';

async function write(entries: { name: string; data?: Buffer; dir?: boolean }[]): Promise<Buffer> {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const tar = createTarWriter(out);
  for (const e of entries) {
    if (e.dir) await tar.addDirectory(e.name);
    else if (e.data!.length > 1_000_000) await tar.addStream(e.name, e.data!.length, Readable.from([e.data!.subarray(0, 1000), e.data!.subarray(1000)]));
    else await tar.addBuffer(e.name, e.data!);
  }
  await tar.finish();
  return Buffer.concat(parts);
}

async function readAll(archive: Buffer, limits?: Partial<TarLimits>): Promise<{ name: string; type: string; data: Buffer }[]> {
  const out = [];
  for await (const e of readTar(Readable.from([archive]), { label: 'x.tar', ...(limits ? { limits } : {}) })) {
    const chunks: Buffer[] = [];
    for await (const c of e.stream) chunks.push(c as Buffer);
    out.push({ name: e.name, type: e.type, data: Buffer.concat(chunks) });
  }
  return out;
}

const ENTRIES = [
  { name: 'oci-layout', data: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
  { name: 'blobs/', dir: true },
  { name: 'blobs/sha256/', dir: true },
  { name: 'blobs/sha256/small', data: Buffer.from('hello\n') },
  { name: 'blobs/sha256/empty', data: Buffer.alloc(0) },
  { name: 'blobs/sha256/big', data: bytes(5_000_000, 3) },
];

test('round trip, deterministic bytes, readable by system tar', async (t) => {
  const a = await write(ENTRIES);
  const b = await write(ENTRIES);
  assert.deepEqual(a, b);
  const got = await readAll(a);
  assert.deepEqual(got.map((e) => [e.name, e.type]), ENTRIES.map((e) => [e.name, e.dir ? 'directory' : 'file']));
  assert.deepEqual(got[5]!.data, ENTRIES[5]!.data);

  const dir = await tempDir(t);
  await writeFile(join(dir, 'a.tar'), a);
  const list = spawnSync('tar', ['tvf', join(dir, 'a.tar')], { encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /-rw-r--r-- 0\/0\s+5000000 1970-01-01 00:00 blobs\/sha256\/big/);
  const x = spawnSync('tar', ['xf', join(dir, 'a.tar'), '-C', dir]);
  assert.equal(x.status, 0);
  assert.deepEqual(await readFile(join(dir, 'blobs/sha256/big')), ENTRIES[5]!.data);
});

test('addStream refuses a source of the wrong length', async () => {
  const tar = createTarWriter(new PassThrough().resume());
  await assert.rejects(tar.addStream('a', 10, Readable.from([Buffer.alloc(5)])), /ended after 5 of 10 bytes/);
  const tar2 = createTarWriter(new PassThrough().resume());
  await assert.rejects(tar2.addStream('b', 3, Readable.from([Buffer.alloc(5)])), /longer than 3 bytes/);
});

async function rejected(archive: Buffer, code: string, pattern: RegExp, limits?: Partial<TarLimits>): Promise<void> {
  await assert.rejects(readAll(archive, limits), (e: unknown) => {
    assert.ok(isAirlockError(e), String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, /^x\.tar: /);
    assert.match(e.message, pattern);
    return true;
  });
}

test('the reader refuses unsafe entries, naming them', async () => {
  const f = (name: string) => ({ name, data: Buffer.from('x') });
  await rejected(await craftTar([f('a/../../etc/passwd')]), 'BUNDLE_UNSAFE', /"a\/\.\.\/\.\.\/etc\/passwd": '\.\.' in path/);
  await rejected(await craftTar([f('/etc/passwd')]), 'BUNDLE_UNSAFE', /absolute path/);
  await rejected(await craftTar([f('a\\b')]), 'BUNDLE_UNSAFE', /backslash/);
  await rejected(await craftTar([f('./a')]), 'BUNDLE_UNSAFE', /'\.' path segment/);
  await rejected(await craftTar([{ name: 'l', type: 'symlink', linkname: '/etc/passwd' }]), 'BUNDLE_UNSAFE', /"l": symbolic link not allowed/);
  await rejected(await craftTar([f('a'), { name: 'h', type: 'link', linkname: 'a' }]), 'BUNDLE_UNSAFE', /"h": hard link not allowed/);
  await rejected(await craftTar([{ name: 'd', type: 'character-device' }]), 'BUNDLE_UNSAFE', /character device/);
  await rejected(await craftTar([{ name: 'p', type: 'fifo' }]), 'BUNDLE_UNSAFE', /FIFO/);
  await rejected(await craftTar([f('a'), f('b'), f('a')]), 'BUNDLE_UNSAFE', /"a": duplicate name/);
  await rejected(await craftTar([{ name: 'd/', type: 'directory' }, { name: 'd', type: 'directory' }]), 'BUNDLE_UNSAFE', /duplicate/);
  await rejected(await craftTar([f('a'), f('b'), f('c')]), 'BUNDLE_UNSAFE', /more than 2 entries/, { maxEntries: 2 });
  await rejected(await craftTar([f('a/b/c/d')]), 'BUNDLE_UNSAFE', /deeper than 3/, { maxDepth: 3 });
  await rejected(await craftTar([{ name: 'big', data: Buffer.alloc(2000) }]), 'BUNDLE_UNSAFE', /over the 1000-byte limit/, { maxEntrySize: 1000 });
  // A long name makes tar-stream emit a pax header, which the reader does not interpret.
  await rejected(await craftTar([f('a'.repeat(120))]), 'BUNDLE_UNSAFE', /pax extended header not allowed/);
});

test('the reader refuses truncated and damaged archives', async () => {
  const good = await write([{ name: 'a', data: bytes(3000, 1) }, { name: 'b', data: Buffer.from('bee') }]);
  await rejected(good.subarray(0, 1500), 'BUNDLE_INVALID', /truncated: the archive ends inside entry "a"/);
  await rejected(good.subarray(0, 512 * 7 + 100), 'BUNDLE_INVALID', /truncated: the archive ends inside a header/);
  await rejected(good.subarray(0, good.length - 1024), 'BUNDLE_INVALID', /truncated: the archive ends without its end-of-archive marker/);
  await rejected(good.subarray(0, good.length - 512), 'BUNDLE_INVALID', /incomplete end-of-archive marker/);
  const flipped = Buffer.from(good);
  flipped[20] = flipped[20]! ^ 0x01;
  await rejected(flipped, 'BUNDLE_INVALID', /bad header checksum at byte 0/);
  await rejected(Buffer.from('not a tar at all'), 'BUNDLE_INVALID', /x\.tar: not an airlock bundle \(no tar header at the start\)/);
});

test('sizes beyond 8 GiB use base-256 headers both ways', async () => {
  const out = new PassThrough();
  const parts: Buffer[] = [];
  out.on('data', (c: Buffer) => parts.push(c));
  const tar = createTarWriter(out);
  const huge = 9 * 2 ** 30;
  // Only the header is needed: feed a source that errors after the header is written.
  const src = new Readable({ read() { this.destroy(new Error('stop')); } });
  await assert.rejects(tar.addStream('huge', huge, src), /stop/);
  const header = Buffer.concat(parts).subarray(0, 512);
  assert.equal(header[124], 0x80);
  const it = readTar(Readable.from([header]), { label: 'x.tar' })[Symbol.asyncIterator]();
  const first = (await it.next()).value as TarEntry;
  assert.equal(first.size, huge);
  await assert.rejects(async () => {
    for await (const _ of first.stream);
  }, /truncated/);
});

test('the reader streams: a 64 MiB entry passes with bounded memory', async () => {
  const size = 64 << 20;
  let sent = 0;
  const body = new Readable({
    read() {
      if (sent >= size) this.push(null);
      else {
        sent += 1 << 20;
        this.push(Buffer.alloc(1 << 20));
      }
    },
  });
  const archive = new PassThrough();
  const tar = createTarWriter(archive);
  const writing = (async () => {
    await tar.addStream('big', size, body);
    await tar.finish();
  })();
  const before = process.memoryUsage().rss;
  let seen = 0;
  for await (const e of readTar(archive, { label: 'x.tar' })) {
    await new Promise<void>((res, rej) =>
      e.stream
        .pipe(
          new Writable({
            write(c: Buffer, _e, cb) {
              seen += c.length;
              cb();
            },
          }),
        )
        .on('finish', res)
        .on('error', rej),
    );
  }
  await writing;
  assert.equal(seen, size);
  assert.ok(process.memoryUsage().rss - before < 50 << 20, 'RSS grew by less than 50 MB');
});

test('a file that does not start with a tar header is "not an airlock bundle", never "truncated"', async () => {
  const read = async (data: Buffer): Promise<unknown> => {
    for await (const e of readTar(Readable.from([data]), { label: 'notes.txt' })) e.stream.resume();
    return undefined;
  };
  await assert.rejects(read(Buffer.from('just text, not a tar at all\n')), /^AirlockError: notes\.txt: not an airlock bundle \(no tar header at the start\)$/);
  await assert.rejects(read(Buffer.alloc(4096, 'text lines\n')), /notes\.txt: not an airlock bundle \(no tar header at the start\)/);
  await assert.rejects(read(Buffer.alloc(0)), /notes\.txt: not an airlock bundle \(the file is empty\)/);
  const real = await write(ENTRIES);
  await assert.rejects(read(real.subarray(0, 1000)), /notes\.txt: truncated/, 'a real tar cut short is still truncated');
});
