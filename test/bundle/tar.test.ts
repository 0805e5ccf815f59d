import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { test } from 'node:test';
import { type TarEntry, type TarLimits, type TarPolicy, createTarWriter, readTar } from '../../src/core/tar.js';
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
    else if (e.data!.length > 1_000_000)
      await tar.addStream(e.name, e.data!.length, Readable.from([e.data!.subarray(0, 1000), e.data!.subarray(1000)]));
    else await tar.addBuffer(e.name, e.data!);
  }
  await tar.finish();
  return Buffer.concat(parts);
}

async function readAll(
  archive: Buffer,
  limits?: Partial<TarLimits>,
  policy: TarPolicy = 'bundle',
): Promise<{ name: string; type: string; data: Buffer }[]> {
  const out = [];
  for await (const e of readTar(Readable.from([archive]), { label: 'x.tar', policy, ...(limits ? { limits } : {}) })) {
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

/** The archive as the reader sees it from a stream: chunks cut at `cuts` (sorted offsets). */
function cutAt(archive: Buffer, cuts: number[]): Readable {
  const bounds = [0, ...cuts, archive.length];
  return Readable.from(bounds.slice(1).map((end, i) => archive.subarray(bounds[i], end)));
}

test('chunk boundaries anywhere, in headers, bodies and padding, read the same entries and bytes', async () => {
  const small = ENTRIES.slice(0, 5);
  const a = await write(small);
  const whole = await readAll(a);
  // Every single cut, and cuts every n bytes: a header split in two or three pieces, a 1-byte chunk.
  const patterns: number[][] = [];
  for (let at = 1; at < a.length; at += 7) patterns.push([at]);
  for (const step of [1, 3, 100, 511, 513])
    patterns.push(Array.from({ length: Math.floor((a.length - 1) / step) }, (_, i) => (i + 1) * step));
  for (const cuts of patterns) {
    const got = [];
    for await (const e of readTar(cutAt(a, cuts), { label: 'x.tar' })) {
      const chunks: Buffer[] = [];
      for await (const c of e.chunks) chunks.push(c);
      got.push({ name: e.name, type: e.type, data: Buffer.concat(chunks) });
    }
    assert.deepEqual(got, whole, `cuts ${cuts.slice(0, 3).join(',')}…`);
  }
});

test('round trip, deterministic bytes, readable by system tar', async (t) => {
  const a = await write(ENTRIES);
  const b = await write(ENTRIES);
  assert.deepEqual(a, b);
  const got = await readAll(a);
  assert.deepEqual(
    got.map((e) => [e.name, e.type]),
    ENTRIES.map((e) => [e.name, e.dir ? 'directory' : 'file']),
  );
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

async function rejected(
  archive: Buffer,
  code: string,
  pattern: RegExp,
  limits?: Partial<TarLimits>,
  policy: TarPolicy = 'bundle',
): Promise<void> {
  await assert.rejects(readAll(archive, limits, policy), (e: unknown) => {
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
  await rejected(
    await craftTar([{ name: 'l', type: 'symlink', linkname: '/etc/passwd' }]),
    'BUNDLE_UNSAFE',
    /"l": symbolic link not allowed/,
  );
  await rejected(await craftTar([f('a'), { name: 'h', type: 'link', linkname: 'a' }]), 'BUNDLE_UNSAFE', /"h": hard link not allowed/);
  await rejected(await craftTar([{ name: 'd', type: 'character-device' }]), 'BUNDLE_UNSAFE', /character device/);
  await rejected(await craftTar([{ name: 'p', type: 'fifo' }]), 'BUNDLE_UNSAFE', /FIFO/);
  await rejected(await craftTar([f('a'), f('b'), f('a')]), 'BUNDLE_UNSAFE', /"a": duplicate name/);
  await rejected(
    await craftTar([
      { name: 'd/', type: 'directory' },
      { name: 'd', type: 'directory' },
    ]),
    'BUNDLE_UNSAFE',
    /duplicate/,
  );
  await rejected(await craftTar([f('a'), f('b'), f('c')]), 'BUNDLE_UNSAFE', /more than 2 entries/, { maxEntries: 2 });
  await rejected(await craftTar([f('a/b/c/d')]), 'BUNDLE_UNSAFE', /deeper than 3/, { maxDepth: 3 });
  await rejected(await craftTar([{ name: 'big', data: Buffer.alloc(2000) }]), 'BUNDLE_UNSAFE', /over the 1000-byte limit/, {
    maxEntrySize: 1000,
  });
  // A long name makes tar-stream emit a pax header, which the reader does not interpret.
  await rejected(await craftTar([f('a'.repeat(120))]), 'BUNDLE_UNSAFE', /pax extended header not allowed/);
});

test('the reader refuses truncated and damaged archives', async () => {
  const good = await write([
    { name: 'a', data: bytes(3000, 1) },
    { name: 'b', data: Buffer.from('bee') },
  ]);
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
  const src = new Readable({
    read() {
      this.destroy(new Error('stop'));
    },
  });
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
  await assert.rejects(
    read(Buffer.from('just text, not a tar at all\n')),
    /^AirlockError: notes\.txt: not an airlock bundle \(no tar header at the start\)$/,
  );
  await assert.rejects(read(Buffer.alloc(4096, 'text lines\n')), /notes\.txt: not an airlock bundle \(no tar header at the start\)/);
  await assert.rejects(read(Buffer.alloc(0)), /notes\.txt: not an airlock bundle \(the file is empty\)/);
  const real = await write(ENTRIES);
  await assert.rejects(read(real.subarray(0, 1000)), /notes\.txt: truncated/, 'a real tar cut short is still truncated');
});

/**
 * An archive made by Python's own tarfile, as setuptools and build make sdists. `add` writes
 * one member; `pax` writes a raw extended header, for records tarfile would never write.
 */
function pyTar(code: string): Buffer {
  const preamble = `import io, sys, tarfile
buf = io.BytesIO()
def add(tf, name, data=b'', type=tarfile.REGTYPE, linkname='', mtime=0):
    ti = tarfile.TarInfo(name); ti.type = type; ti.linkname = linkname; ti.mtime = mtime
    if type == tarfile.REGTYPE: ti.size = len(data)
    tf.addfile(ti, io.BytesIO(data) if type == tarfile.REGTYPE else None)
def pad(b): return b + b'\\0' * (-len(b) % 512)
def rec(k, v):
    body = f' {k}={v}\\n'.encode()
    n = len(body) + 1
    while len(str(n)) + len(body) != n: n += 1
    return str(n).encode() + body
def pax(records, type=tarfile.XHDTYPE):
    ti = tarfile.TarInfo('././@PaxHeader'); ti.type = type; ti.size = len(records)
    buf.write(ti.tobuf(tarfile.USTAR_FORMAT) + pad(records))
def raw(name, data=b'', size=None):
    ti = tarfile.TarInfo(name); ti.size = len(data) if size is None else size
    buf.write(ti.tobuf(tarfile.USTAR_FORMAT) + pad(data))
def end(): buf.write(b'\\0' * 1024)
`;
  const r = spawnSync('python3', ['-c', `${preamble}${code}\nsys.stdout.buffer.write(buf.getvalue())\n`], { maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout;
}

const LONG = `pkg-1.0/${'d'.repeat(60)}/${'f'.repeat(120)}.txt`;

test('upstream: a PAX archive as tarfile writes it (long and non-ASCII names, float mtimes, record padding)', async () => {
  const archive = pyTar(`with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as tf:
    add(tf, 'pkg-1.0/', type=tarfile.DIRTYPE, mtime=1700000000.5)
    add(tf, '${LONG}', b'long\\n', mtime=1.5)
    add(tf, 'pkg-1.0/caf\\u00e9.txt', b'cafe\\n')
    add(tf, 'pkg-1.0/PKG-INFO', b'x' * 700, mtime=1700000000.25)`);
  assert.equal(archive.length % 10240, 0, 'tarfile pads to a whole 10 KiB record');
  assert.equal(String.fromCharCode(archive[156]!), 'x', 'the first header is a pax extended header');
  const got = await readAll(archive, undefined, 'upstream');
  assert.deepEqual(
    got.map((e) => [e.name, e.type, e.data.toString()]),
    [
      ['pkg-1.0/', 'directory', ''],
      [LONG, 'file', 'long\n'],
      ['pkg-1.0/caf\u00e9.txt', 'file', 'cafe\n'],
      ['pkg-1.0/PKG-INFO', 'file', 'x'.repeat(700)],
    ],
  );
  await rejected(archive, 'BUNDLE_UNSAFE', /pax extended header not allowed/);
});

test('upstream: GNU long names and long link names; links are skipped, not refused', async () => {
  const archive = pyTar(`with tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT) as tf:
    add(tf, '${LONG}', b'gnu\\n')
    add(tf, 'pkg-1.0/link', type=tarfile.SYMTYPE, linkname='/' + 't' * 150)
    add(tf, 'pkg-1.0/hard', type=tarfile.LNKTYPE, linkname='${LONG}')
    add(tf, 'pkg-1.0/fifo', type=tarfile.FIFOTYPE)
    add(tf, 'pkg-1.0/after', b'after\\n')`);
  assert.equal(String.fromCharCode(archive[156]!), 'L');
  const got = await readAll(archive, undefined, 'upstream');
  assert.deepEqual(
    got.map((e) => [e.name, e.data.toString()]),
    [
      [LONG, 'gnu\n'],
      ['pkg-1.0/after', 'after\n'],
    ],
  );
});

test("upstream: a pax size record overrides the header's size", async () => {
  const archive = pyTar(`pax(rec('size', 5))
raw('pkg-1.0/sized', b'five!', size=3)
raw('pkg-1.0/next', b'next')
end()`);
  const got = await readAll(archive, undefined, 'upstream');
  assert.deepEqual(
    got.map((e) => [e.name, e.data.toString()]),
    [
      ['pkg-1.0/sized', 'five!'],
      ['pkg-1.0/next', 'next'],
    ],
  );
});

test('upstream: a pax global header (as git archive writes) is read past', async () => {
  const archive = pyTar(`with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT, pax_headers={'comment': 'c0ffee'}) as tf:
    add(tf, 'pkg-1.0/a', b'a')`);
  assert.equal(String.fromCharCode(archive[156]!), 'g');
  assert.deepEqual(
    (await readAll(archive, undefined, 'upstream')).map((e) => e.name),
    ['pkg-1.0/a'],
  );
});

test('upstream: extended headers are checked as strictly as the entries they name', async () => {
  const up = (code: string, c: string, pattern: RegExp) => rejected(pyTar(code), c, pattern, undefined, 'upstream');
  await up(
    `pax(b'16 path=pkg/a\\n')\nraw('x', b'')\nend()`,
    'BUNDLE_INVALID',
    /damaged: bad pax record \(byte 0 of the extended header at byte 0\)/,
  );
  await up(`pax(b'14 path=pkg/a\\n' + b'\\0' * 3)\nraw('x', b'')\nend()`, 'BUNDLE_INVALID', /bad pax record/);
  await up(`pax(b'8 path=a\\n')\nraw('x', b'')\nend()`, 'BUNDLE_INVALID', /bad pax record/);
  await up(
    `pax(rec('path', 'pkg/../../etc/passwd'))\nraw('x', b'')\nend()`,
    'BUNDLE_UNSAFE',
    /"pkg\/\.\.\/\.\.\/etc\/passwd": '\.\.' in path/,
  );
  await up(`pax(rec('path', '/etc/passwd'))\nraw('x', b'')\nend()`, 'BUNDLE_UNSAFE', /absolute path/);
  await up(`pax(rec('size', '1e3'))\nraw('x', b'')\nend()`, 'BUNDLE_INVALID', /unreadable pax size/);
  await up(`pax(rec('GNU.sparse.major', '1'))\nraw('x', b'')\nend()`, 'BUNDLE_UNSAFE', /sparse/);
  await up(`pax(rec('path', 'evil'), tarfile.XGLTYPE)\nraw('x', b'')\nend()`, 'BUNDLE_UNSAFE', /pax global header sets "path"/);
  await up(
    `pax(rec('path', 'a'))\npax(rec('path', 'b'))\nraw('x', b'')\nend()`,
    'BUNDLE_INVALID',
    /two pax extended headers for one entry/,
  );
  await up(`pax(rec('path', 'a'))\nend()`, 'BUNDLE_INVALID', /extended header without the entry it describes/);
  await up(
    `ti = tarfile.TarInfo('././@PaxHeader'); ti.type = tarfile.XHDTYPE; ti.size = 2 << 20\nbuf.write(ti.tobuf(tarfile.USTAR_FORMAT))`,
    'BUNDLE_UNSAFE',
    /2097152 bytes, over the 1048576-byte limit for an extended header/,
  );
  await up(
    `with tarfile.open(fileobj=buf, mode='w', format=tarfile.GNU_FORMAT) as tf:\n    add(tf, 'pkg/../l', type=tarfile.SYMTYPE, linkname='x')`,
    'BUNDLE_UNSAFE',
    /"pkg\/\.\.\/l": '\.\.' in path/,
  );
  await up(
    `ti = tarfile.TarInfo('pkg/l'); ti.type = tarfile.SYMTYPE; ti.size = 5\nbuf.write(ti.tobuf(tarfile.USTAR_FORMAT) + pad(b'data!'))\nend()`,
    'BUNDLE_INVALID',
    /symbolic link "pkg\/l" with 5 bytes of content/,
  );
});
