import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadManifest, parseManifest } from '../../src/manifest/manifest.js';
import { manifestSections } from '../../src/services/lock.js';
import { tempDir } from '../helpers/tmp.js';

const parse = (text: string) => parseManifest(text, 'airlock.yaml', manifestSections());

function configInvalid(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: Error & { code?: string }) => {
    assert.equal(e.code, 'CONFIG_INVALID', e.message);
    assert.match(e.message, message);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

/** Ten anchors, each a list of ten aliases of the one before: 10^10 nodes once expanded. */
function laughs(): string {
  const lines = ['name: lol', 'files:', '  - url: https://example.org/a', 'x0: &x0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let i = 1; i < 10; i++)
    lines.push(
      `x${i}: &x${i} [${Array(10)
        .fill(`*x${i - 1}`)
        .join(', ')}]`,
    );
  return `${lines.join('\n')}\n`;
}

test('a billion-laughs manifest is CONFIG_INVALID naming the file and the line of the aliases, not an internal error', () => {
  configInvalid(() => parse(laughs()), /^airlock\.yaml:5: YAML: aliases expand to too many nodes/);
});

test('an alias to an anchor that is not there is CONFIG_INVALID at its line, quoting at most a prefix of its name', () => {
  const name = 'a'.repeat(5000);
  configInvalid(() => parse(`name: x\ntarget: *${name}\n`), /^airlock\.yaml:2: YAML: /);
  assert.throws(
    () => parse(`name: x\ntarget: *${name}\n`),
    (e: Error) => e.message.length < 200,
  );
});

test('a manifest larger than 16 MiB is refused in one line naming the limit, before it is parsed', async (t) => {
  const file = join(await tempDir(t), 'airlock.yaml');
  await writeFile(file, `name: big\n#${'x'.repeat(16 << 20)}\n`);
  await assert.rejects(loadManifest(file, manifestSections()), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'CONFIG_INVALID');
    assert.match(e.message, /airlock\.yaml: \d+ bytes, more than the 16 MiB a manifest may be$/);
    return true;
  });
  configInvalid(() => parse(`name: big\n#${'x'.repeat(16 << 20)}\n`), /^airlock\.yaml: \d+ bytes, more than the 16 MiB a manifest may be$/);
});

test('errors quote at most an 80-character prefix of any value: unknown keys at any depth', () => {
  const key = `k${'y'.repeat(1000)}`;
  for (const text of [`name: x\n${key}: 1\n`, `name: x\nfiles:\n  - url: https://a/b\n    ${key}: 1\n`]) {
    assert.throws(
      () => parse(text),
      (e: Error) => {
        assert.ok(e.message.length < 300, `${e.message.length} characters`);
        assert.ok(e.message.includes(key.slice(0, 80)), 'the prefix is there to recognise it');
        assert.ok(!e.message.includes(key.slice(0, 81)));
        return true;
      },
    );
  }
});

test('files: a file:, ftp:, data: or gopher: URL is CONFIG_INVALID naming its line', () => {
  for (const url of ['file:///etc/passwd', 'ftp://example.org/a', 'data:text/plain,hi', 'gopher://example.org/a']) {
    configInvalid(
      () => parse(`name: x\nfiles:\n  - url: https://example.org/a\n  - url: ${url}\n`),
      /^airlock\.yaml:4: files\.1\.url: expected an http:\/\/ or https:\/\/ URL$/,
    );
  }
});

test('a manifest with more entries than it may hold is refused before parsing, in block or flow style', () => {
  const block = `name: big\nfiles:\n${'  - url: http://a/x\n'.repeat(400_001)}`;
  configInvalid(
    () => parse(block),
    /^airlock\.yaml: about 400004 entries \(lines and list items\), more than the 400000 a manifest may hold$/,
  );
  const flow = `name: big\npypi:\n  requirements: [${Array(400_001).fill('a').join(',')}]\n`;
  configInvalid(() => parse(flow), /more than the 400000 a manifest may hold/);
  assert.equal(parse(`name: ok\nfiles:\n${Array.from({ length: 10 }, (_, i) => `  - url: http://a/x${i}\n`).join('')}`).name, 'ok');
});
