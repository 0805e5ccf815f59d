import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, posix, relative, sep } from 'node:path';
import { test } from 'node:test';
import { REPO } from './helpers/cli.js';

/** The table in docs/architecture.md ("Layers"): what each folder under src/ may import. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  core: [],
  types: [],
  manifest: ['core'],
  bundle: ['core', 'manifest'],
  audit: ['core'],
  custody: ['core', 'manifest', 'bundle', 'audit'],
  ecosystems: ['core', 'manifest'],
  services: ['core', 'manifest', 'bundle', 'custody', 'audit', 'ecosystems'],
  server: ['core', 'manifest', 'bundle', 'custody', 'audit', 'ecosystems', 'services'],
  cli: ['core', 'manifest', 'bundle', 'custody', 'audit', 'ecosystems', 'services', 'server'],
};

/** Relative specifiers of static imports and re-exports (`import type` too), side-effect imports and `import('...')`. */
const SPECIFIER = /\bfrom\s*'(\.{1,2}\/[^']*)'|\bimport\s*\(\s*'(\.{1,2}\/[^']*)'\s*\)|^\s*import\s*'(\.{1,2}\/[^']*)'/g;

/** Why `from` (a path under src/, posix) may not import `to` (the same), or undefined when it may. */
function refusal(from: string, to: string): string | undefined {
  const [a, ...restA] = from.split('/');
  const [b, ...restB] = to.split('/');
  if (a === undefined || b === undefined) return 'outside the folders of src/';
  const allowed = MAY_IMPORT[a];
  if (!allowed) return `src/${a}/ is not in the layer table`;
  if (!MAY_IMPORT[b]) return `src/${b}/ is not in the layer table`;
  if (a !== b) return allowed.includes(b) ? undefined : `${a}/ may not import ${b}/`;
  if (a !== 'ecosystems') return undefined;
  // One ecosystem never reaches into another: the shared kit (http/) and the seam (ecosystem.ts) are common ground, and registry.ts is the one list of them all.
  const own = restA.length > 1 ? restA[0] : undefined;
  const theirs = restB.length > 1 ? restB[0] : undefined;
  if (theirs !== undefined && (theirs === own || theirs === 'http')) return undefined;
  if (theirs === undefined && restB[0] === 'ecosystem.ts') return undefined;
  if (own === undefined && restA[0] === 'registry.ts') return undefined;
  return `ecosystems/${own ?? restA[0]} may not import ecosystems/${theirs !== undefined ? `${theirs}/` : restB[0]}`;
}

/** Every edge of one source file that the table forbids, as `file:line -> target (why)`. */
function violations(file: string, text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(SPECIFIER)) {
      const spec = (m[1] ?? m[2] ?? m[3])!;
      const target = posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts');
      const why = target.startsWith('src/') ? refusal(file.slice(4), target.slice(4)) : 'outside src/';
      if (why) out.push(`${file}:${i + 1} -> ${target} (${why})`);
    }
  });
  return out;
}

async function sources(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) for (const q of await sources(p)) found.push(q);
    else if (p.endsWith('.ts')) found.push(p);
  }
  return found;
}

test('the checker finds a forbidden edge in each import form', () => {
  const text = [
    "import { buildServer } from '../server/app.js';",
    "import type { Store } from '../core/store.js';",
    'import {',
    '  mintToken,',
    "} from '../services/tokens.js';",
    "const m = await import('../cli/main.js');",
    "export { x } from '../audit/log.js';",
  ].join('\n');
  assert.deepEqual(violations('src/ecosystems/npm.ts', text), [
    'src/ecosystems/npm.ts:1 -> src/server/app.ts (ecosystems/ may not import server/)',
    'src/ecosystems/npm.ts:5 -> src/services/tokens.ts (ecosystems/ may not import services/)',
    'src/ecosystems/npm.ts:6 -> src/cli/main.ts (ecosystems/ may not import cli/)',
    'src/ecosystems/npm.ts:7 -> src/audit/log.ts (ecosystems/ may not import audit/)',
  ]);
  assert.deepEqual(violations('src/ecosystems/oci/save.ts', "import { x } from '../pypi/sdist.js';\nimport { y } from '../registry.js';"), [
    'src/ecosystems/oci/save.ts:1 -> src/ecosystems/pypi/sdist.ts (ecosystems/oci may not import ecosystems/pypi/)',
    'src/ecosystems/oci/save.ts:2 -> src/ecosystems/registry.ts (ecosystems/oci may not import ecosystems/registry.ts)',
  ]);
  assert.deepEqual(
    violations(
      'src/ecosystems/oci/save.ts',
      "import { x } from './tar.js';\nimport { y } from '../http/send.js';\nimport type { E } from '../ecosystem.js';",
    ),
    [],
  );
  assert.deepEqual(violations('src/ecosystems/registry.ts', "import { o } from './oci/index.js';"), []);
  assert.deepEqual(violations('src/custody/gate.ts', "import { a } from '../audit/log.js';"), []);
  assert.deepEqual(violations('src/audit/export.ts', "import { a } from '../custody/dsse.js';"), [
    'src/audit/export.ts:1 -> src/custody/dsse.ts (audit/ may not import custody/)',
  ]);
});

test('every relative import under src/ points down the layer table in docs/architecture.md', async () => {
  const bad: string[] = [];
  for (const p of await sources(join(REPO, 'src'))) {
    const file = relative(REPO, p).split(sep).join('/');
    bad.push(...violations(file, await readFile(p, 'utf8')));
  }
  assert.deepEqual(bad, []);
});

test('the layer table in docs/architecture.md is the one this test enforces', async () => {
  const doc = await readFile(join(REPO, 'docs', 'architecture.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Layers'), doc.indexOf('\n## ', doc.indexOf('## Layers') + 1));
  const table: Record<string, string[]> = {};
  for (const m of section.matchAll(/^\| `src\/([a-z]+)\/` \| ([^|]*) \|/gm)) {
    const deps = m[2]!.trim();
    table[m[1]!] = deps === '(nothing)' ? [] : deps.split(',').map((d) => d.trim().replace(/`/g, ''));
  }
  assert.deepEqual(table, MAY_IMPORT);
});
