import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequirement } from '../../src/ecosystems/pypi/requirement.js';
import { type Candidate, type Provider, resolveRequirements } from '../../src/ecosystems/pypi/solver.js';
import { markerEnvironment } from '../../src/ecosystems/pypi/tags.js';

/** An in-memory index: project -> version -> [Requires-Dist, Provides-Extra]. */
function index(projects: Record<string, Record<string, [string[], string[]?]>>): Provider<string> {
  return {
    candidates: async (name) =>
      Object.keys(projects[name] ?? {})
        .reverse()
        .map((version): Candidate<string> => ({ name, version, file: `${name}-${version}-py3-none-any.whl`, yanked: false })),
    dependencies: async (c) => {
      const [requires, extras = []] = projects[c.name]![c.version]!;
      return { requires: requires.map(parseRequirement), extras };
    },
    unfit: async () => undefined,
  };
}

const env = markerEnvironment({ platform: 'linux/amd64', python: '3.11' });

test('backtracking undoes what the abandoned branch did: pins, extras, requiredBy and queued requirements', async () => {
  const provider = index({
    c: { '1.0': [['e; extra == "x"'], ['x']] },
    a: { '1.0': [['b<2']], '2.0': [['b>=2', 'c[x]', 'd>=9']] },
    b: { '1.0': [[]], '2.0': [['f']] },
    d: { '1.0': [[]] },
    e: { '1.0': [[]] },
    f: { '1.0': [[]] },
  });
  const pins = await resolveRequirements(['c', 'a'].map(parseRequirement), env, provider);
  assert.deepEqual([...pins.keys()], ['c', 'a', 'b'], 'no pin of e, d or f is left from a 2.0, and b is pinned anew');
  assert.deepEqual(
    [...pins].map(([n, p]) => [n, p.candidate.version, p.extras, p.requiredBy, p.asked]),
    [
      ['c', '1.0', [], ['root'], ['c (any version) from root']],
      ['a', '1.0', [], ['root'], ['a (any version) from root']],
      ['b', '1.0', [], ['a==1.0'], ['b<2 from a==1.0']],
    ],
  );
});

// The deepest dead end is reported, after the search has undone the state it was reached in.
test('a dead end is explained as it was when reached, not as the state is after backtracking', async () => {
  const pinned = index({
    b: { '1.0': [[]], '2.0': [['z; extra == "x"'], ['x']] },
    a: { '1.0': [['b>=3']], '2.0': [['b', 'b[x]', 'b<2']] },
    z: { '1.0': [[]] },
  });
  await assert.rejects(
    resolveRequirements(['b>=2', 'a'].map(parseRequirement), env, pinned),
    (e: Error) => e.message === 'b 2.0 was chosen for root, a==2.0, a==2.0, but b<2 from a==2.0 excludes it',
  );
  const constrained = index({
    a: { '1.0': [['b>=3']], '2.0': [['c', 'b>=2']] },
    b: { '1.0': [[]], '2.0': [[]] },
    c: { '1.0': [[]] },
  });
  await assert.rejects(
    resolveRequirements([parseRequirement('a')], env, constrained, [parseRequirement('b<2')]),
    (e: Error) => e.message === 'no version of b satisfies b<2 from constraint and b>=2 from a==2.0 (available: 2.0, 1.0)',
  );
});
