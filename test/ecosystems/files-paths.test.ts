import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkServedPath } from '../../src/ecosystems/files/paths.js';
import { filesSectionSchema, servedPathOf } from '../../src/ecosystems/files/schema.js';
import { parseManifest } from '../../src/manifest/manifest.js';
import { manifestSections } from '../../src/services/lock.js';

const parse = (text: string) => parseManifest(text, 'airlock.yaml', manifestSections());
const entry = (url: string) => `name: x\nfiles:\n  - url: https://example.org/ok.txt\n  - url: ${url}\n`;

function refused(text: string, message: RegExp): void {
  assert.throws(
    () => parse(text),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, 'CONFIG_INVALID', e.message);
      assert.match(e.message, message);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    },
  );
}

test('a URL whose last segment decodes to a path that leaves /files/ is refused at its line, asking for path:', () => {
  for (const last of [
    'a%2f..%2f..%2fetc%2fpasswd',
    '..%2fsecret',
    '%2fetc%2fpasswd',
    'a%5c..%5cb',
    'a%00b',
    'a%0ab',
    'a%2f%2fb',
    '.%2fa',
  ]) {
    refused(
      entry(`https://example.org/dl/${last}`),
      /^airlock\.yaml:4: files\.1\.url: ends in a segment that, decoded, .*; give this entry a path:$/,
    );
  }
});

test('a URL with no segment left to serve under (host root, a trailing %2e%2e) asks for path: instead of serving the host name', () => {
  for (const url of ['https://example.org/', 'https://example.org', 'https://example.org/x/%2e%2e', 'https://example.org/x/%2E%2E/']) {
    refused(entry(url), /^airlock\.yaml:4: files\.1\.url: has no path segment to serve the file under; give this entry a path:$/);
  }
});

test('a last segment that is not valid percent-encoding is CONFIG_INVALID at its line, not an internal error', () => {
  refused(
    entry('https://example.org/bad%zzname'),
    /^airlock\.yaml:4: files\.1\.url: ends in a segment that is not valid percent-encoding; give this entry a path:$/,
  );
});

test('with an explicit path: any URL shape is fine; derived paths that pass the rules are decoded once', () => {
  const m = parse(
    'name: x\nfiles:\n  - url: https://example.org/a%2f..%2fb\n    path: safe/b\n  - url: https://example.org/\n    path: root.html\n  - url: https://example.org/d/tool%201.2.tar.gz\n  - url: https://example.org/d/a%2fb.txt\n',
  );
  const section = filesSectionSchema.parse((m.sections as { files: unknown }).files);
  assert.deepEqual(section.map(servedPathOf), ['safe/b', 'root.html', 'tool 1.2.tar.gz', 'a/b.txt']);
});

test('checkServedPath: the reason for each kind of bad path, undefined for a good one', () => {
  assert.equal(checkServedPath('tools/tool-1.2.tar.gz'), undefined);
  assert.equal(checkServedPath(''), 'is empty');
  assert.equal(checkServedPath('/etc/passwd'), 'must be relative (no leading /)');
  assert.equal(checkServedPath('a\\b'), 'must use / not \\');
  assert.equal(checkServedPath('a\0b'), 'contains a control character');
  assert.equal(checkServedPath('a\x7fb'), 'contains a control character');
  for (const p of ['a/../b', './a', 'a//b', 'a/', '..']) assert.equal(checkServedPath(p), "has an empty, '.' or '..' segment", p);
});
