import { parseDistFilename } from './filename.js';
import type { IndexFile } from './index-client.js';
import type { PypiSection } from './schema.js';
import { contains } from './specifiers.js';
import { type PythonTarget, markerEnvironment, supportedTags, wheelMisfit, wheelRank } from './tags.js';

/** Why one file cannot serve a target; `distance` orders files by how near they came (lower is nearer). */
export interface Misfit {
  filename: string;
  reason: string;
  distance: number;
}

// After every wheel for the target's OS and architecture, before wheels for other machines.
const SDIST_DISTANCE = 11.5;

export interface FileCheck {
  /** Whether the file can serve this target: the resolver asks this of every file, so it builds no reasons. */
  fits(f: IndexFile, hashes?: ReadonlySet<string>): boolean;
  /** Why not, undefined exactly when `fits`. */
  why(f: IndexFile, hashes?: ReadonlySet<string>): Misfit | undefined;
}

/**
 * The one test of whether a file of a project can serve this target: its tags,
 * Requires-Python, the project's `--hash` pins (when it has some) and the sdist policy.
 * Yanked files pass: PEP 592 depends on the requirement and is the resolver's.
 */
export function fileCheck(t: PythonTarget, sdists: PypiSection['sdists']): FileCheck {
  const ranks = new Map(supportedTags(t).map((tag, i) => [tag, i]));
  const python = markerEnvironment(t).python_full_version;
  const sdist = (f: IndexFile): boolean => parseDistFilename(f.filename)?.kind === 'sdist';
  const tagsFit = (f: IndexFile): boolean => (sdist(f) ? sdists !== 'never' : wheelRank(f.filename, ranks) !== undefined);
  const pythonFits = (f: IndexFile): boolean => !f.requiresPython || contains(python, f.requiresPython, { prereleases: true });
  const pinned = (f: IndexFile, hashes?: ReadonlySet<string>): boolean => !hashes || Boolean(f.sha256 && hashes.has(f.sha256));
  return {
    fits: (f, hashes) => tagsFit(f) && pythonFits(f) && pinned(f, hashes),
    why: (f, hashes) => {
      const reasons: string[] = [];
      let distance = 0;
      if (!tagsFit(f)) {
        const tags = sdist(f)
          ? { reason: 'is an sdist and sdists: never (set pypi.sdists: fallback to take it)', distance: SDIST_DISTANCE }
          : wheelMisfit(f.filename, t, ranks)!;
        reasons.push(tags.reason);
        distance += tags.distance;
      }
      if (!pythonFits(f)) {
        reasons.push(`requires Python ${f.requiresPython} (the target is ${python})`);
        distance += 2;
      }
      if (!pinned(f, hashes)) {
        reasons.push('is not one of the --hash pins');
        distance += 1;
      }
      return reasons.length ? { filename: f.filename, reason: reasons.join(' and '), distance } : undefined;
    },
  };
}

/** The nearest misfits on one line, `file reason; file reason; and N more`. */
export function listMisfits(misfits: readonly Misfit[], shown = 3): string {
  const sorted = [...misfits].sort((a, b) => a.distance - b.distance || a.filename.localeCompare(b.filename));
  const parts = sorted.slice(0, shown).map((m) => `${m.filename} ${m.reason}`);
  if (sorted.length > shown) parts.push(`and ${sorted.length - shown} more`);
  return parts.join('; ');
}
