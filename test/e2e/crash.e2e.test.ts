import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { digestOf } from '../../src/core/digest.js';
import { generateKey } from '../../src/core/keys.js';
import { Store } from '../../src/core/store.js';
import { silentReporter } from '../../src/core/report.js';
import { createBundle } from '../../src/services/bundle.js';
import { createToken } from '../../src/services/tokens.js';
import { setTrustPolicy } from '../../src/services/trust.js';
import { parseTrustPolicy } from '../../src/custody/policy.js';
import { AIRLOCK, REPO, airlock } from '../helpers/cli.js';
import { bytes, seedLock } from '../helpers/seed.js';
import { tempDir } from '../helpers/tmp.js';

const POINTS = ['import:start', 'import:staged-blob', 'import:adopted-blob', 'import:before-commit', 'import:after-commit'];

/**
 * An import killed with SIGKILL at each crash point (before, during and after the blob
 * writes, around the commit) leaves a store `airlock verify` finds clean, and re-running
 * the same import completes it, with the import in the audit log exactly once (the entry
 * commits with the import, so no crash can leave a visible import unaudited).
 */
test('import killed with SIGKILL at any point: verify stays clean and a re-run completes', async (t) => {
  const dir = await tempDir(t);
  const low = await Store.open(join(dir, 'low'));
  const lock = await seedLock(low, {
    'a.bin': bytes(200_000, 1),
    'b.bin': bytes(150_000, 2),
    'big.bin': bytes(500_000, 3),
  });
  const { files } = await createBundle(low, lock, {
    out: join(dir, 'c.airlock'),
    split: 260_000,
    sequence: 1,
    creator: 't',
    reporter: silentReporter,
  });
  await low.close();
  assert.ok(files.length >= 3);

  for (const point of POINTS) {
    const home = join(dir, point.replace(':', '-'));
    const killed = await airlock(['--home', home, 'import', ...files], { env: { AIRLOCK_CRASH_AT: point } });
    assert.equal(killed.signal, 'SIGKILL', `${point}: the import was killed (${killed.stderr})`);
    const verify = await airlock(['--home', home, 'verify']);
    assert.equal(verify.code, 0, `${point}: verify after the crash: ${verify.stdout}${verify.stderr}`);
    const rerun = await airlock(['--home', home, 'import', ...files]);
    assert.equal(rerun.code, 0, `${point}: re-run: ${rerun.stderr}`);
    const listed = JSON.parse((await airlock(['--home', home, '--json', 'list'])).stdout) as { key: string }[];
    assert.deepEqual(
      listed.map((a) => a.key),
      ['a.bin', 'b.bin', 'big.bin'],
      point,
    );
    const after = await airlock(['--home', home, 'verify']);
    assert.equal(after.code, 0, `${point}: verify after the re-run: ${after.stdout}${after.stderr}`);
    const log = JSON.parse((await airlock(['--home', home, '--json', 'audit', 'log'])).stdout) as { action: string; outcome: string }[];
    const imported = log.filter((e) => e.action === 'import' && e.outcome === 'imported');
    assert.equal(imported.length, 1, `${point}: one audited import for the one visible bundle: ${JSON.stringify(log)}`);
    const chain = await airlock(['--home', home, 'audit', 'verify']);
    assert.equal(chain.code, 0, `${point}: audit verify: ${chain.stdout}${chain.stderr}`);
  }
});

/**
 * An override is audited in the transaction of the import it lets in: an overridden import
 * killed before its commit leaves no override behind, and the re-run records it once, with
 * the import.
 */
test('an overridden import killed before its commit audits nothing; the re-run audits the override with the import', async (t) => {
  const dir = await tempDir(t);
  const low = await Store.open(join(dir, 'low'));
  const lock = await seedLock(low, { 'a.bin': bytes(1_000, 1) });
  const { files } = await createBundle(low, lock, { out: join(dir, 'o.airlock'), sequence: 1, creator: 't', reporter: silentReporter });
  await low.close();
  const home = join(dir, 'high');
  const high = await Store.open(home);
  await writeFile(join(dir, 'origin.pub'), generateKey().publicPem);
  const yaml = 'keys:\n  origin: origin.pub\nroles:\n  origin: { keys: [origin], threshold: 1 }\nrules: { requireRoles: [origin] }\n';
  await setTrustPolicy(high, parseTrustPolicy(yaml, join(dir, 'trust.yaml')), 'trust.yaml');
  await high.close();

  const args = ['--home', home, 'import', ...files, '--override-custody', 'ticket 4711'];
  const killed = await airlock(args, { env: { AIRLOCK_CRASH_AT: 'import:before-commit' } });
  assert.equal(killed.signal, 'SIGKILL', killed.stderr);
  const log = async () =>
    (JSON.parse((await airlock(['--home', home, '--json', 'audit', 'log'])).stdout) as { action: string; outcome: string }[]).map(
      (e) => `${e.action} ${e.outcome}`,
    );
  assert.deepEqual(await log(), ['trust.set installed'], 'nothing was let in, so no override was recorded');
  const rerun = await airlock(args);
  assert.equal(rerun.code, 0, rerun.stderr);
  assert.deepEqual(await log(), ['trust.set installed', 'custody.override overridden', 'import imported']);
});

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, 'close');
  return port;
}

/** `airlock serve` on a loopback port, optionally set to kill itself at a crash point; stopped when the test ends. */
async function serve(t: TestContext, home: string, crashAt?: string) {
  const port = await freePort();
  const child = spawn(AIRLOCK, ['--home', home, 'serve', '--listen', `127.0.0.1:${port}`, '--log-level', 'silent'], {
    cwd: REPO,
    env: { ...process.env, ...(crashAt ? { AIRLOCK_CRASH_AT: crashAt } : {}) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`serve exited early: ${stderr}`);
    if ((await fetch(`${url}/healthz`).catch(() => undefined))?.status === 200) break;
    if (i > 100) throw new Error(`serve did not come up: ${stderr}`);
    await sleep(100);
  }
  return {
    url,
    exited,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function pypiUpload(token: string): RequestInit {
  const data = Buffer.from('an sdist');
  const b = '----airlockcrash';
  const fields = { ':action': 'file_upload', name: 'crashy', version: '1.0', sha256_digest: digestOf(data).slice(7) };
  const parts = Object.entries(fields).map(([k, v]) =>
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`),
  );
  parts.push(
    Buffer.from(
      `--${b}\r\nContent-Disposition: form-data; name="content"; filename="crashy-1.0.tar.gz"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    data,
    Buffer.from(`\r\n--${b}--\r\n`),
  );
  return {
    method: 'POST',
    body: Buffer.concat(parts),
    headers: {
      'content-type': `multipart/form-data; boundary=${b}`,
      authorization: `Basic ${Buffer.from(`__token__:${token}`).toString('base64')}`,
    },
  };
}

function npmPublish(token: string): RequestInit {
  const tgz = Buffer.from('a tarball');
  const integrity = `sha512-${createHash('sha512').update(tgz).digest('base64')}`;
  const doc = {
    name: 'crashy',
    'dist-tags': { latest: '1.0.0' },
    versions: { '1.0.0': { name: 'crashy', version: '1.0.0', dist: { integrity } } },
    _attachments: { 'crashy-1.0.0.tgz': { data: tgz.toString('base64'), length: tgz.length } },
  };
  return { method: 'PUT', body: JSON.stringify(doc), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } };
}

async function ociPush(url: string, token: string): Promise<RequestInit> {
  const auth = { authorization: `Bearer ${token}` };
  const config = Buffer.from('{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
  const layer = Buffer.from('a layer');
  for (const blob of [config, layer]) {
    const r = await fetch(`${url}/v2/crashy/blobs/uploads/?digest=${digestOf(blob)}`, {
      method: 'POST',
      body: blob,
      headers: { ...auth, 'content-type': 'application/octet-stream' },
    });
    assert.equal(r.status, 201, await r.text());
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: digestOf(layer), size: layer.length }],
  };
  return { method: 'PUT', body: JSON.stringify(manifest), headers: { ...auth, 'content-type': manifest.mediaType } };
}

const WRITES: {
  point: string;
  action: string;
  path: string;
  request: (url: string, token: string) => Promise<RequestInit> | RequestInit;
  again: number;
}[] = [
  { point: 'pypi:after-commit', action: 'pypi.upload', path: '/pypi/legacy/', request: (_u, token) => pypiUpload(token), again: 409 },
  { point: 'npm:after-commit', action: 'npm.publish', path: '/npm/crashy', request: (_u, token) => npmPublish(token), again: 403 },
  { point: 'oci:after-commit', action: 'oci.push', path: '/v2/crashy/manifests/v1', request: ociPush, again: 201 },
];

/**
 * A server killed right after an upload, a publish or a push commits holds the change with
 * its audit entry (one transaction), and the log verifies; the client's retry finds it there.
 */
for (const w of WRITES) {
  test(`serve killed with SIGKILL right after a ${w.action} commits: the change and its entry are both in`, async (t) => {
    const home = join(await tempDir(t), 'home');
    const store = await Store.open(home);
    const token = await createToken(store, 'ci', 'publisher');
    await store.close();

    const crashing = await serve(t, home, w.point);
    const sent = await fetch(`${crashing.url}${w.path}`, await w.request(crashing.url, token)).then(
      (r) => `answered ${r.status}`,
      () => 'killed',
    );
    const [, signal] = await crashing.exited;
    assert.equal(signal, 'SIGKILL', `${w.point}: the server was killed (${sent})`);

    const entries = async () =>
      (JSON.parse((await airlock(['--home', home, '--json', 'audit', 'log'])).stdout) as { action: string }[]).filter(
        (e) => e.action === w.action,
      );
    const listed = JSON.parse((await airlock(['--home', home, '--json', 'list'])).stdout) as { key: string }[];
    assert.equal(listed.length, 1, `${w.point}: the write is visible: ${JSON.stringify(listed)}`);
    assert.equal((await entries()).length, 1, `${w.point}: and audited once`);
    const chain = await airlock(['--home', home, 'audit', 'verify']);
    assert.equal(chain.code, 0, `${w.point}: audit verify: ${chain.stdout}${chain.stderr}`);

    const again = await serve(t, home);
    const retry = await fetch(`${again.url}${w.path}`, await w.request(again.url, token));
    assert.equal(retry.status, w.again, `${w.point}: the retry: ${await retry.text()}`);
    await again.stop();
  });
}
