import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StoredArtifact } from '../../src/core/artifact.js';
import { hfClientConfig } from '../../src/ecosystems/hf/client-config.js';
import { encodePath } from '../../src/ecosystems/hf/resolve.js';
import { commitFor, hubView } from '../../src/ecosystems/hf/view.js';

const snap = (id: number, commit: string, revision: string): StoredArtifact => ({
  id,
  ecosystem: 'hf',
  key: `models/acme/m@${commit}`,
  name: 'models/acme/m',
  version: commit,
  digest: `sha256:${'0'.repeat(64)}`,
  size: 1,
  metadata: { type: 'model', repo: 'acme/m', commit, revision, files: [] },
  blobs: [],
  bundleId: null,
  createdAt: '',
});

test('hf revisions: commits, unique prefixes, the branch or tag asked for, and main as the newest', () => {
  const [a, b] = ['a'.repeat(40), `ab${'c'.repeat(38)}`];
  const repo = hubView([snap(1, a, 'v1'), snap(2, b, b)]).get('models/acme/m')!;
  assert.equal(commitFor(repo, 'v1')?.commit, a);
  assert.equal(commitFor(repo, b)?.commit, b);
  assert.equal(commitFor(repo, 'abcc')?.commit, undefined, 'shorter than 7');
  assert.equal(commitFor(repo, 'abccccc')?.commit, b);
  assert.equal(commitFor(repo, 'aaaaaaa')?.commit, a);
  assert.equal(commitFor(repo, 'main')?.commit, b, 'clients ask for main: the newest snapshot');
  assert.equal(commitFor(repo, 'dev'), undefined);
  const withMain = hubView([snap(1, a, 'main'), snap(2, b, 'v2')]).get('models/acme/m')!;
  assert.equal(commitFor(withMain, 'main')?.commit, a, 'a bundle that asked for main decides what main is');
});

test('hf resolve paths keep their slashes and escape the rest; client-config sets HF_ENDPOINT', () => {
  assert.equal(encodePath('a dir/x#1.json'), 'a%20dir/x%231.json');
  assert.match(hfClientConfig('http://mirror:8080'), /^export HF_ENDPOINT=http:\/\/mirror:8080\/hf$/m);
});
