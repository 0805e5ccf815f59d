import { gt, parse, rcompare } from '@renovatebot/pep440';
import { pushAll } from '../../core/arrays.js';
import { contains } from './specifiers.js';
import { type MarkerEnvironment, MarkerError, evaluateMarker } from './markers.js';
import type { Requirement } from './requirement.js';

/** A version of a project, as one concrete file for the target being resolved. */
export interface Candidate<F = unknown> {
  name: string;
  version: string;
  file: F;
  yanked: boolean;
}

/** Where the resolver gets versions and dependencies; resolve.ts backs it with an index. */
export interface Provider<F> {
  /** Installable candidates for this target (tags and Requires-Python already checked). */
  candidates(name: string): Promise<Candidate<F>[]>;
  /** Every Requires-Dist of the candidate (markers not yet evaluated) and its Provides-Extra. */
  dependencies(c: Candidate<F>): Promise<{ requires: Requirement[]; extras: string[] }>;
  /**
   * Why the newest version `wanted` accepts has no file for this target, or undefined when
   * every such version has one. Without a version: the index lists no files at all.
   */
  unfit(name: string, wanted: (version: string) => boolean): Promise<Unfit | undefined>;
}

export interface Unfit {
  version?: string;
  /** How many versions of the project have no file for this target, this one included. */
  versions: number;
  /** The nearest files and why each was rejected, on one line. */
  why: string;
}

export interface Pinned<F> {
  candidate: Candidate<F>;
  extras: string[];
  /** Who asked for it: `root` or `name==version`. */
  requiredBy: string[];
  /** Filled in once resolved, for `airlock lock --explain`: every requirement on the project, as `lib>=1.0 from app==1.0`. */
  asked?: string[];
  /** Newer versions for this target that were not chosen, each with the reason. */
  passedOver?: string[];
}

export class ResolutionError extends Error {}

interface Need extends Requirement {
  from: string;
}

const MAX_STEPS = 200_000;

function isPrerelease(version: string): boolean {
  const v = parse(version);
  return Boolean(v?.pre || v?.dev);
}

const describe = (n: Need): string =>
  `${n.name}${n.extras.length ? `[${n.extras.join(',')}]` : ''}${n.specifier || ' (any version)'} from ${n.from}`;

/**
 * PEP 440 filtering as pip does it: final releases only, unless nothing but prereleases
 * matches; yanked files only for an exact `==` pin (PEP 592).
 */
function admissible<F>(cands: readonly Candidate<F>[], needs: readonly Need[]): Candidate<F>[] {
  const specs = needs.map((n) => n.specifier).filter(Boolean);
  const pinned = specs.some((s) => /(^|,)===?[^=*]+$/.test(s) && !s.includes('*'));
  const ok = (c: Candidate<F>, pre: boolean): boolean =>
    (!c.yanked || pinned) &&
    (pre || specs.length > 0 || !isPrerelease(c.version)) &&
    specs.every((s) => contains(c.version, s, { prereleases: pre }));
  const finals = cands.filter((c) => ok(c, false));
  return finals.length > 0 ? finals : cands.filter((c) => ok(c, true));
}

/** A dead end, with the projects whose choices led to it (conflict-directed backjumping). */
interface DeadEnd {
  culprits: ReadonlySet<string>;
}

/** The project whose choice produced a requirement; roots and files have none to revisit. */
function chooser(n: Need): string | undefined {
  const at = n.from.indexOf('==');
  return at > 0 ? n.from.slice(0, at) : undefined;
}

function choosersOf(needs: readonly Need[]): Set<string> {
  return new Set(needs.map(chooser).filter((x): x is string => x !== undefined));
}

/**
 * A depth-first backtracking resolver: take the next requirement; if its project is pinned,
 * check the pin; otherwise try its admissible versions newest first, recursing with their
 * dependencies. Markers are evaluated for `env` only, never for the running machine.
 */
export async function resolveRequirements<F>(
  roots: readonly (Requirement & { from?: string })[],
  env: MarkerEnvironment,
  provider: Provider<F>,
  constraints: readonly (Requirement & { from?: string })[] = [],
): Promise<Map<string, Pinned<F>>> {
  let steps = 0;
  // Explaining a dead end reads the project's files: done once, for the dead end reported.
  let deepest: { depth: number; message?: () => Promise<string> } = { depth: -1 };
  const fail = (depth: number, message: () => Promise<string>, culprits: Set<string>): DeadEnd => {
    if (depth >= deepest.depth) deepest = { depth, message };
    return { culprits };
  };
  const depsOf = async (c: Candidate<F>, asked: readonly string[]): Promise<Need[]> => {
    const { requires, extras: provided } = await provider.dependencies(c);
    // As pip does: an extra the project does not declare (Provides-Extra) adds nothing.
    const extras = asked.filter((x) => provided.includes(x));
    return requires.filter((r) => applies(r, extras, `${c.name}==${c.version}`)).map((r) => ({ ...r, from: `${c.name}==${c.version}` }));
  };
  const applies = (r: Requirement & { from?: string }, extras: readonly string[] = [], from = r.from ?? 'root'): boolean => {
    try {
      return !r.marker || evaluateMarker(r.marker, env, extras);
    } catch (e) {
      if (e instanceof MarkerError) throw new ResolutionError(`${from}: ${e.message}`);
      throw e;
    }
  };

  const noFile = async (need: Need, wanted: (v: string) => boolean): Promise<string> => {
    const u = (await provider.unfit(need.name, wanted)) ?? (await provider.unfit(need.name, () => true));
    const others = (u?.versions ?? 1) - 1;
    const version = u?.version ? ` ${u.version}${others > 0 ? ` (nor of ${others} other version${others === 1 ? '' : 's'})` : ''}` : '';
    return `no installable file of ${need.name}${version} for this target (asked by ${need.from})${u ? `: ${u.why}` : ''}`;
  };
  /** The clash, and why the newest version the requirements accept is out: no file for the target, or yanked. */
  const noVersion = async (
    need: Need,
    needs: readonly Need[],
    all: readonly Candidate<F>[],
    wanted: (v: string) => boolean,
  ): Promise<string> => {
    const versions = [...new Set(all.map((c) => c.version))].sort(rcompare).slice(0, 8);
    const head = `no version of ${need.name} satisfies ${needs.map(describe).join(' and ')} (available: ${versions.join(', ')})`;
    const u = await provider.unfit(need.name, wanted);
    // admissible() takes every candidate `wanted` accepts unless it is yanked, so one found here was refused for that.
    const yanked = all.find((c) => wanted(c.version));
    if (u?.version && (!yanked || gt(u.version, yanked.version)))
      return `${head}; ${need.name} ${u.version} has no installable file for this target: ${u.why}`;
    if (yanked) return `${head}; ${need.name} ${yanked.version} is yanked (only an == pin takes it, PEP 592)`;
    return head;
  };

  // One mutable state for the whole search: a choice point logs what it changes and undoes
  // it on backtracking, so no step copies the pins, the requirements or the queue.
  const pins = new Map<string, Pinned<F>>();
  const needsOf = new Map<string, Need[]>();
  const queue: Need[] = roots.filter((r) => applies(r)).map((r) => ({ ...r, from: r.from ?? 'root' }));
  let head = 0;
  // Each entry names the project whose pin or requirements changed; `extras` is the pin's
  // extras count before the change, -1 when the change pinned the project.
  const log: { name: string; extras?: number }[] = [];
  const undoTo = (mark: number): void => {
    while (log.length > mark) {
      const { name, extras } = log.pop()!;
      if (extras === undefined) {
        const needs = needsOf.get(name)!;
        needs.pop();
        if (needs.length === 0) needsOf.delete(name);
      } else if (extras < 0) {
        pins.delete(name);
      } else {
        const pin = pins.get(name)!;
        pin.extras.length = extras;
        pin.requiredBy.pop();
      }
    }
  };
  // Constraints limit a project's versions only once something requires it (pip's -c).
  for (const c of constraints.filter((r) => applies(r)))
    needsOf.set(c.name, [...(needsOf.get(c.name) ?? []), { ...c, from: c.from ?? 'constraint' }]);

  /**
   * Works through the queue depth first. A dead end names the projects whose choices caused it;
   * a choice point whose project is not among them cannot help, so it passes the dead end up
   * at once instead of trying its other versions (which would fail the same way). A dead end
   * leaves its changes for the choice point above to undo.
   */
  const step = async (depth: number): Promise<true | DeadEnd> => {
    while (head < queue.length) {
      if (++steps > MAX_STEPS) throw new ResolutionError(`gave up after ${MAX_STEPS} steps; the requirements are too tangled to resolve`);
      const need = queue[head++]!;
      let needs = needsOf.get(need.name);
      if (!needs) needsOf.set(need.name, (needs = []));
      needs.push(need);
      log.push({ name: need.name });
      const pin = pins.get(need.name);
      if (pin) {
        if (need.specifier && !contains(pin.candidate.version, need.specifier, { prereleases: true })) {
          const by = pin.requiredBy.join(', ');
          return fail(
            depth,
            async () => `${need.name} ${pin.candidate.version} was chosen for ${by}, but ${describe(need)} excludes it`,
            new Set([need.name, ...choosersOf(needs)]),
          );
        }
        const added = need.extras.filter((x) => !pin.extras.includes(x));
        log.push({ name: need.name, extras: pin.extras.length });
        pushAll(pin.extras, added);
        pin.requiredBy.push(need.from);
        if (added.length > 0) {
          pushAll(queue, await depsOf(pin.candidate, pin.extras));
          depth++;
        }
        continue;
      }
      const all = await provider.candidates(need.name);
      const cands = admissible(all, needs);
      if (cands.length === 0) {
        const asked = [...needs];
        const wanted = (v: string): boolean => asked.every((n) => !n.specifier || contains(v, n.specifier, { prereleases: true }));
        return fail(depth, () => (all.length === 0 ? noFile(need, wanted) : noVersion(need, asked, all, wanted)), choosersOf(asked));
      }
      const culprits = choosersOf(needs);
      const mark = log.length;
      const queued = queue.length;
      const at = head;
      for (const c of cands) {
        pins.set(need.name, { candidate: c, extras: [...need.extras], requiredBy: [need.from] });
        log.push({ name: need.name, extras: -1 });
        pushAll(queue, await depsOf(c, need.extras));
        const r = await step(depth + 1);
        if (r === true) return r;
        undoTo(mark);
        queue.length = queued;
        head = at;
        if (!r.culprits.has(need.name)) return r;
        for (const x of r.culprits) if (x !== need.name) culprits.add(x);
      }
      return { culprits };
    }
    return true;
  };

  const done = await step(0);
  if (done !== true) throw new ResolutionError(deepest.message ? await deepest.message() : 'the requirements cannot be satisfied together');
  const out = new Map<string, Pinned<F>>();
  for (const [name, pin] of pins) {
    const asked = needsOf.get(name) ?? [];
    out.set(name, {
      ...pin,
      asked: asked.map(describe),
      passedOver: passedOver(await provider.candidates(name), pin.candidate.version, asked),
    });
  }
  return out;
}

const PASSED_OVER_SHOWN = 5;

/** Why each newer candidate lost: a requirement excluded it, PEP 592/440 rules, or backtracking. */
function passedOver<F>(all: readonly Candidate<F>[], chosen: string, needs: readonly Need[]): string[] {
  const pinnedExactly = needs.some((n) => /(^|,)===?[^=*]+$/.test(n.specifier) && !n.specifier.includes('*'));
  return all
    .filter((c) => gt(c.version, chosen))
    .slice(0, PASSED_OVER_SHOWN)
    .map((c) => {
      const by = needs.find((n) => n.specifier && !contains(c.version, n.specifier, { prereleases: true }));
      if (by) return `${c.version}: excluded by ${describe(by)}`;
      if (c.yanked && !pinnedExactly) return `${c.version}: yanked`;
      if (isPrerelease(c.version)) return `${c.version}: a pre-release`;
      return `${c.version}: its dependencies conflict with the rest (tried, backtracked)`;
    });
}
