import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isAirlockError } from '../../src/core/errors.js';
import { readSdistMetadata } from '../../src/ecosystems/pypi/sdist-metadata.js';
import { tempDir } from '../helpers/tmp.js';

const LONG_NAME = `${'n'.repeat(120)}.txt`;

test('a real setuptools sdist (PAX, float mtimes, a long name) gets past the tar layer to its metadata version', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'setup.cfg'), '[metadata]\nname = tiny\nversion = 1.0\n');
  await writeFile(join(dir, 'MANIFEST.in'), 'include data/*\n');
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', LONG_NAME), 'hi\n');
  const r = spawnSync('python3', ['-c', 'from setuptools import setup; setup()', '-q', 'sdist'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(await readdir(join(dir, 'dist')), ['tiny-1.0.tar.gz']);
  // setuptools 65 writes core metadata 2.1, which airlock refuses as dynamic (PEP 643 needs 2.2): the refusal must be that, not the tar format.
  await assert.rejects(readSdistMetadata(createReadStream(join(dir, 'dist', 'tiny-1.0.tar.gz')), 'tiny-1.0.tar.gz'), (e: unknown) => {
    assert.ok(isAirlockError(e), String(e));
    assert.doesNotMatch(e.message, /cannot read this sdist/);
    assert.match(e.message, /^tiny-1\.0\.tar\.gz: its dependencies are only known by building it \(core metadata 2\.1\)/);
    return true;
  });
});

test('a PAX sdist with core metadata 2.2 is read in full', async (t) => {
  const dir = await tempDir(t);
  const pkgInfo = 'Metadata-Version: 2.2\nName: tiny\nVersion: 1.0\nRequires-Dist: idna>=3\n\nA tiny sdist.\n';
  const out = join(dir, 'tiny-1.0.tar.gz');
  // As setuptools writes it: gzip, PAX (Python's default), float mtimes, plus a global header and a long name.
  const script = `import io, sys, tarfile
def add(tf, name, data=b'', type=tarfile.REGTYPE):
    ti = tarfile.TarInfo(name); ti.type = type; ti.mtime = 1700000000.123; ti.size = len(data)
    tf.addfile(ti, io.BytesIO(data) if type == tarfile.REGTYPE else None)
with tarfile.open(sys.argv[1], 'w:gz', format=tarfile.PAX_FORMAT, pax_headers={'comment': 'built'}) as tf:
    add(tf, 'tiny-1.0', type=tarfile.DIRTYPE)
    add(tf, 'tiny-1.0/data/${LONG_NAME}', b'hi\\n')
    add(tf, 'tiny-1.0/PKG-INFO', sys.argv[2].encode())
    add(tf, 'tiny-1.0/setup.py', b'from setuptools import setup\\nsetup()\\n')
`;
  const r = spawnSync('python3', ['-c', script, out, pkgInfo], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const got = await readSdistMetadata(createReadStream(out), 'tiny-1.0.tar.gz');
  assert.equal(got.toString(), pkgInfo);
});
