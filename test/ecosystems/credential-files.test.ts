import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { hubToken } from '../../src/ecosystems/hf/hub-client.js';
import { loadNpmConfig } from '../../src/ecosystems/npm/npmrc.js';
import { findCredential } from '../../src/ecosystems/oci/credentials.js';
import { tempDir } from '../helpers/tmp.js';

const SECRET = 'hunter2-very-secret';

/** CONFIG_INVALID, one line naming the file, never quoting what is in it. */
async function refused(p: Promise<unknown>, file: string, why: RegExp): Promise<void> {
  await assert.rejects(p, (e: Error & { code?: string }) => {
    assert.equal(e.code, 'CONFIG_INVALID', e.message);
    assert.ok(e.message.startsWith(`${file}: `), e.message);
    assert.match(e.message, why);
    assert.doesNotMatch(e.message, /hunter2|\n/);
    return true;
  });
}

test('container auth files: absent is fine; one that is not JSON or has no auths object is CONFIG_INVALID', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'auth.json');
  const env = { REGISTRY_AUTH_FILE: file, DOCKER_CONFIG: join(dir, 'docker') };
  assert.equal(await findCredential('ghcr.io', env), undefined);
  await writeFile(file, `{"auths": {"ghcr.io": {"auth": "${SECRET}"`);
  await refused(findCredential('ghcr.io', env), file, /is not valid JSON/);
  await writeFile(file, `["${SECRET}"]`);
  await refused(findCredential('ghcr.io', env), file, /is not a JSON object/);
  await writeFile(file, `{"auths": ["${SECRET}"]}`);
  await refused(findCredential('ghcr.io', env), file, /"auths" is not an object/);
  await writeFile(file, JSON.stringify({ auths: { 'ghcr.io': { auth: Buffer.from('me:pw').toString('base64') } } }));
  assert.deepEqual(await findCredential('ghcr.io', env), { username: 'me', password: 'pw' });
  await mkdir(join(dir, 'dir.json'));
  await refused(
    findCredential('ghcr.io', { ...env, REGISTRY_AUTH_FILE: join(dir, 'dir.json') }),
    join(dir, 'dir.json'),
    /cannot be read \(EISDIR\)/,
  );
});

test('.npmrc: absent is fine; a line that is not key=value is CONFIG_INVALID naming the file and line', async (t) => {
  const dir = await tempDir(t);
  const user = join(dir, 'user.npmrc');
  const before = process.env.NPM_CONFIG_USERCONFIG;
  process.env.NPM_CONFIG_USERCONFIG = user;
  t.after(() => {
    if (before === undefined) delete process.env.NPM_CONFIG_USERCONFIG;
    else process.env.NPM_CONFIG_USERCONFIG = before;
  });
  const registry = 'http://127.0.0.1:9/';
  assert.equal((await loadNpmConfig(dir, registry)).registry, registry);
  await writeFile(user, `; a comment\n//127.0.0.1:9/:_authToken=${SECRET}\n`);
  assert.equal((await loadNpmConfig(dir, registry)).credentials['//127.0.0.1:9/:_authToken'], SECRET);
  await writeFile(join(dir, '.npmrc'), `registry=${registry}\n\n${SECRET}\n`);
  await refused(loadNpmConfig(dir, registry), join(dir, '.npmrc'), /line 3 is not key=value/);
  await writeFile(join(dir, '.npmrc'), Buffer.from([0x72, 0x3d, 0xff, 0xfe, 0x0a]));
  await refused(loadNpmConfig(dir, registry), join(dir, '.npmrc'), /is not UTF-8 text/);
});

test('HF token file: absent or empty is no token; one that is not a single token is CONFIG_INVALID', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'token');
  const env = { HF_TOKEN_PATH: file };
  assert.equal(await hubToken(env), undefined);
  await writeFile(file, '\n');
  assert.equal(await hubToken(env), undefined);
  await writeFile(file, `hf_${SECRET}\n`);
  assert.equal(await hubToken(env), `hf_${SECRET}`);
  await writeFile(file, `hf_${SECRET}\nsomething else\n`);
  await refused(hubToken(env), file, /is not one token/);
  await writeFile(file, Buffer.from([0x68, 0x66, 0x5f, 0x00, 0x01]));
  await refused(hubToken(env), file, /is not one token/);
});
