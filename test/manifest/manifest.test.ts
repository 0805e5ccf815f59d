import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifest } from '../../src/manifest/manifest.js';
import { manifestSections } from '../../src/services/lock.js';

const parse = (text: string) => parseManifest(text, 'airlock.yaml', manifestSections());
const HEX = 'ab'.repeat(32);

test('a valid manifest', () => {
  const m = parse(`name: demo
target: { platforms: [linux/amd64, linux/arm64], python: ["3.11"], libc: glibc-2.28 }
files:
  - url: https://example.org/tool-1.2.tar.gz
    sha256: ${HEX}
    path: tools/tool-1.2.tar.gz
  - url: https://example.org/dl/notes.txt?x=1
`);
  assert.equal(m.name, 'demo');
  assert.deepEqual(m.target, { platforms: ['linux/amd64', 'linux/arm64'], python: ['3.11'], libc: 'glibc-2.28' });
  assert.equal((m.sections.files as unknown[]).length, 2);
  assert.deepEqual(parse('name: bare\n').target, { platforms: ['linux/amd64'], python: [] });
});

function fails(text: string, message: string | RegExp): void {
  assert.throws(
    () => parse(text),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'CONFIG_INVALID');
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      return true;
    },
  );
}

test('errors name the file, line and field', () => {
  fails(
    'name: x\nfiels:\n  - url: https://a/b\n',
    'airlock.yaml:2: fiels: unknown key (allowed: name, target, files, pypi, npm, images, registries, huggingface, conda)',
  );
  fails('name: x\nfiles:\n  - url: https://a/b\n    sha: 12\n', 'airlock.yaml:4: files.0.sha: unknown key');
  fails('name: x\nfiles:\n  - url: https://a/b\n  - url: ftp://a/c\n', 'airlock.yaml:4: files.1.url: expected an http:// or https:// URL');
  fails('name: x\nfiles:\n  - url: not a url\n', /^airlock\.yaml:3: files\.0\.url: expected an http/);
  fails(
    'name: x\nfiles:\n  - url: https://a/b\n    sha256: abcd\n',
    'airlock.yaml:4: files.0.sha256: expected 64 hex characters or sha256:<hex>',
  );
  fails('name: x\nfiles:\n  - url: https://a/b\n    sha256: 1234\n', /^airlock\.yaml:4: files\.0\.sha256: .*quote it/);
  fails(
    'name: x\nfiles:\n  - url: https://a/b\n    path: ../etc/passwd\n',
    /^airlock\.yaml:4: files\.0\.path: path has an empty, '\.' or '\.\.' segment$/,
  );
  fails('name: x\nfiles:\n  - url: https://a/b\n  - url: https://c/b\n', 'airlock.yaml:4: files.1.url: serves b, like entry 1');
  fails('name: x\nfiles: [\n', /^airlock\.yaml:\d+: YAML: /);
  fails('target: {}\n', 'airlock.yaml:1: name: required');
  fails('name: x\ntarget: { platforms: [linux] }\n', /^airlock\.yaml:2: target\.platforms\.0: expected os\/arch/);
  fails('name: x\nname: y\n', /^airlock\.yaml:2: YAML: /);
});

test('target platforms: common aliases map to the vocabulary; unknown names are refused naming the known ones', () => {
  const platforms = (list: string) => parse(`name: x\ntarget: { platforms: [${list}] }\n`).target.platforms;
  assert.deepEqual(platforms('linux/x86_64, linux/aarch64'), ['linux/amd64', 'linux/arm64']);
  assert.deepEqual(platforms('linux/amd64, linux/x86_64, linux/x64'), ['linux/amd64'], 'aliases of one platform count once');
  assert.deepEqual(platforms('linux/arm64/v8, linux/armhf, linux/arm, linux/i686'), ['linux/arm64', 'linux/arm/v7', 'linux/386']);
  assert.deepEqual(platforms('macos/arm64, osx/x86_64, win/amd64, win32/x86'), [
    'darwin/arm64',
    'darwin/amd64',
    'windows/amd64',
    'windows/386',
  ]);
  fails(
    'name: x\ntarget: { platforms: [linux/sparc64] }\n',
    /^airlock\.yaml:2: target\.platforms\.0: "linux\/sparc64" is not a platform airlock knows \(known: linux\/amd64, linux\/arm64, .*darwin\/arm64.*; aliases such as linux\/x86_64 and linux\/aarch64 are accepted\)$/,
  );
  fails('name: x\ntarget: { platforms: [plan9/amd64] }\n', /"plan9\/amd64" is not a platform airlock knows/);
});

test("an image's own platforms: aliases map, names outside the vocabulary pass to the registry", () => {
  const m = parse('name: x\nimages:\n  - ref: app:1\n    platforms: [linux/x86_64, linux/mips64le]\n');
  assert.deepEqual((m.sections.images as { platforms: string[] }[])[0]!.platforms, ['linux/amd64', 'linux/mips64le']);
});
