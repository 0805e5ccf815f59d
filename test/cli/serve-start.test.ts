import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { airlock, serveOffline } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

test('serve removes temp files that stopped processes left in the store, and keeps live ones and resumable downloads', async (t) => {
  const dir = await tempDir(t);
  const home = join(dir, 'home');
  assert.equal((await airlock(['--home', home, 'init'])).code, 0);
  const dead = spawnSync('true').pid!;
  const tmp = join(home, 'tmp');
  await mkdir(tmp, { recursive: true });
  await writeFile(join(tmp, `.tmp-${dead}-0123456789ab`), Buffer.alloc(1 << 20));
  await writeFile(join(tmp, `.tmp-${process.pid}-0123456789ab`), "a live writer's");
  await writeFile(join(tmp, `partial-${'ab'.repeat(32)}`), 'a resumable fetch');
  await serveOffline(t, ['--home', home, 'serve']);
  assert.deepEqual((await readdir(tmp)).filter((n) => n !== 'oci-uploads').sort(), [
    `.tmp-${process.pid}-0123456789ab`,
    `partial-${'ab'.repeat(32)}`,
  ]);
});
