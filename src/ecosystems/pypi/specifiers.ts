import { compare, parse, satisfies } from '@renovatebot/pep440';

/**
 * PEP 440 "version matches specifier set", through @renovatebot/pep440 with one correction:
 * an exclusive `>V` whose V is itself a post-release must admit later post-releases of the
 * same release (`1.1.post1` matches `>1.1.post0`), which the library refuses.
 */
export function contains(version: string, specifier: string, opts: { prereleases: boolean }): boolean {
  return specifier
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .every((clause) => {
      const m = /^>\s*([^=].*)$/.exec(clause);
      if (m && parse(m[1]!)?.post) {
        const v = parse(version);
        if (!v || (!opts.prereleases && (v.pre || v.dev))) return false;
        return compare(version, m[1]!) > 0;
      }
      return satisfies(version, clause, opts);
    });
}
