import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { AIRLOCK, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** `airlock verify` on a store whose disk has `freeKiB` left: a 2 MiB tmpfs in a mount namespace of its own. */
async function verifyOnFullDisk(dir: string, freeKiB: number) {
  const script = [
    'mount -t tmpfs -o size=2m airlock-full "$0"',
    '"$1" --home "$0/home" init >/dev/null',
    'avail=$(df -k --output=avail "$0" | tail -1)',
    `dd if=/dev/zero of="$0/fill" bs=1k count=$((avail - ${freeKiB})) 2>/dev/null`,
    'exec "$1" --home "$0/home" verify',
  ].join(' && ');
  return run('unshare', ['-m', 'sh', '-c', script, join(dir, 'mnt'), AIRLOCK], { cwd: dir });
}

test('a full disk under the store: verify still prints its result, and the failure names the database, never a masked rollback', async (t) => {
  const dir = await tempDir(t);
  await run('mkdir', [join(dir, 'mnt')]);
  // Room to open the database and read, not to append the audit entry.
  const almost = await verifyOnFullDisk(dir, 36);
  assert.equal(almost.code, 1, almost.stdout + almost.stderr);
  assert.equal(almost.stdout, '0 blob(s), 0 B, 0 reference(s) checked: 0 problem(s)\n', 'the verification result is not lost');
  assert.match(
    almost.stderr,
    /^airlock: error: \S+\/home\/airlock\.db: cannot record the verification in the audit log: database or disk is full \(\d+ bytes free\)\n$/,
  );
  assert.doesNotMatch(almost.stderr, /rollback|internal error/);

  const full = await verifyOnFullDisk(dir, 0);
  assert.equal(full.code, 1);
  assert.match(
    full.stderr,
    /^airlock: error: \S+\/home\/airlock\.db: cannot open the store's database: disk I\/O error \(\d+ bytes free\)\n$/,
  );
});
