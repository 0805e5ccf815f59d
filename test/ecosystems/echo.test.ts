import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { quoteShort } from '../../src/core/errors.js';
import { parseEnvironmentFile } from '../../src/ecosystems/conda/environment-file.js';
import { parseExplicit } from '../../src/ecosystems/conda/explicit.js';
import { parseYamlInput } from '../../src/ecosystems/conda/inputs.js';
import { readPackageLock } from '../../src/ecosystems/npm/lockfile.js';
import { tempDir } from '../helpers/tmp.js';

/** A line an attacker would like printed: it begins innocuously, so a 40-character prefix still hides the secret. */
const SECRET = 'sk_live_51HxQpL2eZvKYlo2CqWmNbV8xT4rJ9dFgH3kS0aPzUyEiOw7';
const LONG = `${'harmless-looking-prefix-of-forty-chars--'}${SECRET}${'-and-more'.repeat(20)}`;

function refusedAt(fn: () => unknown, where: RegExp): void {
  assert.throws(fn, (e: Error & { code?: string }) => {
    assert.equal(e.code, 'CONFIG_INVALID', e.message);
    assert.match(e.message, where);
    assert.ok(!e.message.includes(SECRET), `the secret is not echoed: ${e.message}`);
    assert.ok(e.message.length < 220, `${e.message.length} characters: ${e.message}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    return true;
  });
}

test('quoteShort: JSON-quoted, cut at 40 characters with …', () => {
  assert.equal(quoteShort('abc'), '"abc"');
  assert.equal(quoteShort('x'.repeat(41)), `"${'x'.repeat(40)}…"`);
  assert.equal(quoteShort('a\nb"c', 3), '"a\\nb…"');
  assert.equal(quoteShort(`${'a'.repeat(39)}😀z`), `"${'a'.repeat(39)}…"`, 'never half a surrogate pair');
});

test('conda explicit files: a line that is not a URL, not http(s), not a package, or has a bad hash names file:line and never the line', () => {
  const CF = 'https://conda.example/conda-forge';
  for (const [line, why] of [
    [LONG, /not a URL/],
    [`ftp://${LONG}`, /not an http\(s\) URL/],
    [`${CF}/linux-64/${LONG}`, /not a conda package URL/],
    [`${CF}/noarch/c-3-0.conda#${LONG}`, /neither a sha256 nor an md5/],
    [`https://alice:${SECRET}@conda.example/x/linux-64/a-1-0.conda`, /the package URL must not carry credentials/],
    [`${CF}/linux-64/a%zz-1-0.conda`, /file name is not valid percent-encoding/],
    [`https://conda.example/t/${SECRET}/acme/linux-64/a-1-0.conda`, /the package URL must not carry a token \(\/t\/<token>\/\)/],
  ] as const) {
    refusedAt(
      () => parseExplicit(`# comment\n@EXPLICIT\n${CF}/noarch/a-1-0.conda\n${line}\n`, 'spec.txt'),
      new RegExp(`^spec\\.txt:4: .*${why.source}`),
    );
  }
});

test('conda environment files: a channel or dependency that is neither text nor a pip: list names file:line and its kind, not its content', () => {
  refusedAt(
    () => parseEnvironmentFile(`name: e\nchannels:\n  - conda-forge\n  - { token: ${LONG} }\ndependencies: [python]\n`, 'environment.yml'),
    /^environment\.yml:4: channels: item 2 is a mapping, not a channel name or URL$/,
  );
  refusedAt(
    () => parseEnvironmentFile(`name: e\ndependencies:\n  - python\n  - [${LONG}]\n`, 'environment.yml'),
    /^environment\.yml:4: dependencies: item 2 is a list, neither a match spec nor a pip: list$/,
  );
  refusedAt(
    () =>
      parseEnvironmentFile(`name: e\nchannels: [https://alice:${SECRET}@conda.example/acme]\ndependencies: [python]\n`, 'environment.yml'),
    /^environment\.yml:2: channels: item 1 must not carry credentials/,
  );
});

test("conda YAML inputs: a parse error names file:line and the kind of error, not the parser's quote of the text", () => {
  refusedAt(
    () => parseYamlInput(`name: e\ndependencies:\n  - python\n "${LONG}\n`, 'environment.yml'),
    /^environment\.yml:\d+: not YAML \([A-Z_]+\)$/,
  );
  refusedAt(() => parseYamlInput(`a: 1\n${LONG}: [\n`, 'pixi.lock'), /^pixi\.lock:\d+: not YAML \([A-Z_]+\)$/);
  refusedAt(
    () => parseYamlInput(`a: *${LONG}\n`, 'pixi.lock'),
    /^pixi\.lock: not YAML \(an alias names no anchor, or aliases expand too far\)$/,
  );
});

test('npm package-lock: lockfileVersion, a packages key and a resolved value are quoted at most 40 characters, credentials never', async (t) => {
  const dir = await tempDir(t);
  const lock = join(dir, 'package-lock.json');
  const refusedLock = async (doc: unknown, where: RegExp) => {
    await writeFile(lock, JSON.stringify(doc));
    await assert.rejects(readPackageLock(lock), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'CONFIG_INVALID', e.message);
      assert.match(e.message, where);
      assert.ok(!e.message.includes(SECRET), `the secret is not echoed: ${e.message}`);
      assert.ok(e.message.length < dir.length + 220, `${e.message.length} characters: ${e.message}`);
      return true;
    });
  };
  await refusedLock(
    { lockfileVersion: LONG, packages: {} },
    /package-lock\.json: lockfileVersion "harmless-looking-prefix-of-forty-chars--…"; airlock reads 2 and 3/,
  );
  await refusedLock(
    { lockfileVersion: { v: LONG }, packages: {} },
    /package-lock\.json: lockfileVersion is a mapping; airlock reads 2 and 3/,
  );
  await refusedLock(
    { lockfileVersion: 3, packages: { [LONG]: { version: '1.0.0' } } },
    /package-lock\.json: packages "harmless-looking-prefix-of-forty-chars--…": not a package path/,
  );
  await refusedLock(
    { lockfileVersion: 3, packages: { [`node_modules/${LONG}`]: { version: '1.0.0' } } },
    /package-lock\.json: packages "node_modules\/harmless-looking-prefix-of-…": not a package path/,
  );
  await refusedLock(
    { lockfileVersion: 3, packages: { 'node_modules/a': { version: '1.0.0', resolved: `git+ssh://git@example.org/${LONG}` } } },
    /package-lock\.json: packages "node_modules\/a": resolved is a git\+ssh: URL \(a git or file dependency\?\)/,
  );
  await refusedLock(
    { lockfileVersion: 3, packages: { 'node_modules/a': { version: '1.0.0', resolved: LONG } } },
    /package-lock\.json: packages "node_modules\/a": resolved is not a URL/,
  );
  await refusedLock(
    {
      lockfileVersion: 3,
      packages: { 'node_modules/a': { version: '1.0.0', resolved: `https://alice:${SECRET}@registry.example/a/-/a-1.0.0.tgz` } },
    },
    /package-lock\.json: packages "node_modules\/a": resolved must not carry credentials .*\.npmrc/,
  );
});
