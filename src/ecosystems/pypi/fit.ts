import { parseDistFilename } from './filename.js';
import type { IndexFile } from './index-client.js';
import type { PypiSection } from './schema.js';
import { contains } from './specifiers.js';
import { type PythonTarget, markerEnvironment, supportedTags, wheelMisfit } from './tags.js';

/** Why one file cannot serve a target; `distance` orders files by how near they came (lower is nearer). */
export interface Misfit {
  filename: string;
  reason: string;
  distance: number;
}

// After every wheel for the target's OS and architecture, before wheels for other machines.
const SDIST_DISTANCE = 11.5;

/**
 * The one test of whether a file of a project can serve this target, returning why not:
 * its tags, Requires-Python, the project's `--hash` pins (when it has some) and the sdist
 * policy. Yanked files pass: PEP 592 depends on the requirement and is the resolver's.
 */
export function misfitCheck(t: PythonTarget, sdists: PypiSection['sdists']): (f: IndexFile, hashes?: ReadonlySet<string>) => Misfit | undefined {
  const ranks = new Map(supportedTags(t).map((tag, i) => [tag, i]));
  const python = markerEnvironment(t).python_full_version;
  return (f, hashes) => {
    const reasons: string[] = [];
    let distance = 0;
    if (parseDistFilename(f.filename)?.kind === 'sdist') {
      if (sdists === 'never') {
        reasons.push('is an sdist and sdists: never (set pypi.sdists: fallback to take it)');
        distance += SDIST_DISTANCE;
      }
    } else {
      const tags = wheelMisfit(f.filename, t, ranks);
      if (tags) {
        reasons.push(tags.reason);
        distance += tags.distance;
      }
    }
    if (f.requiresPython && !contains(python, f.requiresPython, { prereleases: true })) {
      reasons.push(`requires Python ${f.requiresPython} (the target is ${python})`);
      distance += 2;
    }
    if (hashes && !(f.sha256 && hashes.has(f.sha256))) {
      reasons.push('is not one of the --hash pins');
      distance += 1;
    }
    return reasons.length ? { filename: f.filename, reason: reasons.join(' and '), distance } : undefined;
  };
}

/** The nearest misfits on one line, `file reason; file reason; and N more`. */
export function listMisfits(misfits: readonly Misfit[], shown = 3): string {
  const sorted = [...misfits].sort((a, b) => a.distance - b.distance || a.filename.localeCompare(b.filename));
  const parts = sorted.slice(0, shown).map((m) => `${m.filename} ${m.reason}`);
  if (sorted.length > shown) parts.push(`and ${sorted.length - shown} more`);
  return parts.join('; ');
}
