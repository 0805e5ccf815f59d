import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { airlock, inNamespace, serveOffline } from '../helpers/cli.js';
import { type HubRepo, commitId, startHub } from '../helpers/hub.js';
import { bytes } from '../helpers/seed.js';
import { tempDir } from '../helpers/tmp.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MAIN = commitId('main');
const DEV = commitId('dev');
const weights = bytes(300_000, 7);
const model: HubRepo = {
  type: 'model',
  name: 'acme/tiny-model',
  commits: {
    [MAIN]: [
      { path: 'config.json', body: Buffer.from('{"model_type":"bert","hidden_size":8}\n') },
      { path: 'tokenizer.json', body: Buffer.from('{"version":"1.0","vocab":{"a":0}}\n') },
      { path: 'model.safetensors', body: weights, lfs: true },
      { path: 'pytorch_model.bin', body: bytes(1000, 8), lfs: true },
      { path: 'docs/deep/notes.txt', body: Buffer.from('nested\n') },
    ],
    [DEV]: [{ path: 'config.json', body: Buffer.from('{"model_type":"bert","hidden_size":16}\n') }],
  },
  refs: { main: MAIN, v1: MAIN, dev: DEV },
};
const dataset: HubRepo = {
  type: 'dataset',
  name: 'acme/tiny-data',
  commits: {
    [MAIN]: [
      { path: 'data/train.csv', body: Buffer.from('a,b\n1,2\n') },
      { path: 'data/part.parquet', body: bytes(50_000, 9), lfs: true },
    ],
  },
  refs: { main: MAIN },
};

/**
 * A model and a dataset from a Hub-compatible upstream, pinned to commits, bundled, imported
 * and served with no network; the Hub's own JS client downloads the whole snapshot through
 * HF_ENDPOINT byte-identical, and the HEAD answers carry what the Python client reads.
 */
test('hf: a model and a dataset → lock at commits → bundle → offline import → @huggingface/hub downloads from airlock', async (t) => {
  const dir = await tempDir(t);
  const hub = await startHub(t, [model, dataset]);
  const yaml = (revision: string) =>
    [
      'name: models',
      'target: { platforms: [linux/amd64] }',
      'huggingface:',
      `  endpoint: ${hub.url}`,
      '  repos:',
      `    - { repo: acme/tiny-model, revision: ${revision}, include: ["*.json", "*.safetensors", "*.txt"], exclude: ["*.bin"] }`,
      '    - { repo: acme/tiny-data, type: dataset }',
      '',
    ].join('\n');
  await writeFile(join(dir, 'airlock.yaml'), yaml('v1'));
  const low = join(dir, 'low');
  for (const args of [['lock'], ['fetch'], ['bundle', 'create', '-o', 'models.airlock']]) {
    const r = await airlock(['--home', low, ...args], { cwd: dir });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  assert.ok(!hub.requests.some((r) => r.includes('pytorch_model.bin')), 'excluded files are never fetched');
  assert.ok(
    hub.requests.some((r) => r.includes('cursor=')),
    'the tree was read page by page',
  );

  const high = join(dir, 'high');
  const imp = await airlock(['--home', high, 'import', join(dir, 'models.airlock')], { offline: true });
  assert.equal(imp.code, 0, imp.stderr);
  const server = await serveOffline(t, ['--home', high, 'serve', '--listen', '127.0.0.1:8080']);
  const endpoint = 'http://127.0.0.1:8080/hf';
  const client = async (type: string, name: string, revision: string) => {
    const r = await inNamespace(server, 'env', [`HF_ENDPOINT=${endpoint}`, 'node', 'test/fixtures/hf-client.mjs', type, name, revision]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { path: string; sha256: string; size: number; listedSize: number }[]).sort((a, b) =>
      a.path < b.path ? -1 : 1,
    );
  };
  const want = (repo: HubRepo, keep: (p: string) => boolean) =>
    repo.commits[MAIN]!.filter((f) => keep(f.path))
      .map((f) => ({ path: f.path, sha256: sha256(f.body), size: f.body.length }))
      .sort((a, b) => (a.path < b.path ? -1 : 1));
  for (const rev of ['main', 'v1', MAIN]) {
    const got = await client('model', 'acme/tiny-model', rev);
    assert.deepEqual(
      got.map(({ path, sha256: h, size }) => ({ path, sha256: h, size })),
      want(model, (p) => !p.endsWith('.bin')),
      `model at ${rev}`,
    );
    assert.ok(got.every((f) => f.size === f.listedSize));
  }
  assert.deepEqual(
    (await client('dataset', 'acme/tiny-data', 'main')).map(({ path, sha256: h, size }) => ({ path, sha256: h, size })),
    want(dataset, () => true),
  );

  // What huggingface_hub's get_hf_file_metadata reads from a HEAD of resolve.
  const head = async (path: string) => (await inNamespace(server, 'curl', ['-s', '-I', `${endpoint}/${path}`])).stdout;
  const lfs = await head('acme/tiny-model/resolve/main/model.safetensors');
  assert.match(lfs, /^HTTP\/1\.1 200/);
  assert.match(lfs, new RegExp(`x-repo-commit: ${MAIN}`, 'i'));
  assert.match(lfs, new RegExp(`etag: "${sha256(weights)}"`, 'i'));
  assert.match(lfs, new RegExp(`x-linked-etag: "${sha256(weights)}"`, 'i'));
  assert.match(lfs, /content-length: 300000/i);
  assert.doesNotMatch(lfs, /^location:/im, 'served here, never redirected');
  const regular = await head('acme/tiny-model/resolve/main/config.json');
  assert.match(regular, /etag: "[0-9a-f]{40}"/i);
  for (const [path, code] of [
    ['acme/nope/resolve/main/config.json', 'RepoNotFound'],
    ['acme/tiny-model/resolve/nobranch/config.json', 'RevisionNotFound'],
    ['acme/tiny-model/resolve/main/pytorch_model.bin', 'EntryNotFound'],
  ] as const) {
    const r = await head(path);
    assert.match(r, /^HTTP\/1\.1 404/);
    assert.match(r, new RegExp(`x-error-code: ${code}`, 'i'));
  }
  const info = JSON.parse((await inNamespace(server, 'curl', ['-s', `${endpoint}/api/models/acme/tiny-model/revision/main`])).stdout) as {
    sha: string;
    siblings: { rfilename: string }[];
  };
  assert.equal(info.sha, MAIN);
  assert.deepEqual(info.siblings.map((s) => s.rfilename).sort(), [
    'config.json',
    'docs/deep/notes.txt',
    'model.safetensors',
    'tokenizer.json',
  ]);
  const paths = await inNamespace(server, 'curl', [
    '-s',
    '-X',
    'POST',
    '--data',
    'paths=config.json&paths=docs',
    `${endpoint}/api/models/acme/tiny-model/paths-info/main`,
  ]);
  assert.deepEqual(
    (JSON.parse(paths.stdout) as { path: string; type: string }[]).map((e) => `${e.type} ${e.path}`),
    ['file config.json', 'directory docs'],
  );
});

test('hf: an LFS file whose bytes do not match its sha256 is refused at fetch; an unknown revision at lock', async (t) => {
  const dir = await tempDir(t);
  const hub = await startHub(t, [model], { corruptLfs: true });
  await writeFile(
    join(dir, 'airlock.yaml'),
    `name: m\ntarget: { platforms: [linux/amd64] }\nhuggingface:\n  endpoint: ${hub.url}\n  repos: [{ repo: acme/tiny-model, include: ["*.safetensors"] }]\n`,
  );
  const home = join(dir, 'home');
  assert.equal((await airlock(['--home', home, 'lock'], { cwd: dir })).code, 0);
  const fetched = await airlock(['--home', home, 'fetch'], { cwd: dir });
  assert.equal(fetched.code, 1);
  assert.match(fetched.stderr, new RegExp(`hf:models/acme/tiny-model@${MAIN}: expected sha256:${sha256(weights)}`));
  await writeFile(
    join(dir, 'airlock.yaml'),
    `name: m\ntarget: { platforms: [linux/amd64] }\nhuggingface:\n  endpoint: ${hub.url}\n  repos: [{ repo: acme/tiny-model, revision: no-such-branch }]\n`,
  );
  const lock = await airlock(['--home', home, 'lock'], { cwd: dir });
  assert.equal(lock.code, 1);
  assert.match(lock.stderr, /hf:models\/acme\/tiny-model@no-such-branch: Invalid rev id: no-such-branch/);
});
