import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { readRequirementsFile } from '../../src/ecosystems/pypi/requirements-file.js';
import { tempDir } from '../helpers/tmp.js';

const SECRET = 'root:x:0:0:root:/root:/bin/bash';

/** Each case: a file named by `-r`, and what the error must say about it. */
const cases: [string, string, RegExp][] = [
  ['not a requirement at all', `${SECRET}\nsecond line\n`, /included\.txt:1: ":x:0:0:root:\/roo…" is not a PEP 440 version specifier$/],
  ['no name', `:${SECRET}\n`, /included\.txt:1: expected a project name first$/],
  ['a bad marker', `pkg ; ${SECRET} == "1"\n`, /included\.txt:1: /],
  ['a bad specifier', `pkg ${SECRET}\n`, /included\.txt:1: /],
  ['an option', `--${SECRET}\n`, /included\.txt:1: option --root:x:0:0:roo… is not supported here/],
  ['a bad hash', `pkg --hash=${SECRET}\n`, /included\.txt:1: --hash root:x:0:0:root:… is not sha256:<64 hex>$/],
];

for (const [what, content, message] of cases) {
  test(`requirements: ${what} in an included file is named by file and line without quoting the line`, async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'included.txt'), content);
    await writeFile(join(dir, 'requirements.txt'), '-r included.txt\n');
    await assert.rejects(readRequirementsFile(join(dir, 'requirements.txt')), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'CONFIG_INVALID');
      assert.match(e.message, message);
      assert.ok(!e.message.includes(SECRET.slice(0, 20)), e.message);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  });
}

test('requirements: short tokens that failed are still quoted, so the error says what to fix', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'requirements.txt'), 'pkg >=1.0,<<2\n');
  await assert.rejects(
    readRequirementsFile(join(dir, 'requirements.txt')),
    /requirements\.txt:1: ">=1\.0,<<2" is not a PEP 440 version specifier$/,
  );
});
