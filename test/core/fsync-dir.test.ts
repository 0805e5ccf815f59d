import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fsyncDir, fsyncDirHarmless } from '../../src/core/fsutil.js';
import { tempDir } from '../helpers/tmp.js';

const err = (code: string) => Object.assign(new Error(code), { code });

test('fsyncDir: only the errors of a filesystem or platform that cannot sync a directory are harmless', () => {
  for (const code of ['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EBADF', 'EPERM']) assert.equal(fsyncDirHarmless(err(code)), true, code);
  for (const code of ['EIO', 'ENOSPC', 'EDQUOT', 'EROFS', 'ENOENT', 'EACCES']) assert.equal(fsyncDirHarmless(err(code)), false, code);
  assert.equal(fsyncDirHarmless(new Error('no code')), false);
});

test('fsyncDir: a directory that does not exist is an error, not a silent success', async (t) => {
  const dir = await tempDir(t);
  await fsyncDir(dir);
  await assert.rejects(fsyncDir(join(dir, 'gone')), { code: 'ENOENT' });
});
