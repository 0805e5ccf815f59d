import { z } from 'zod';
import { httpUrlSchema } from '../../manifest/url.js';
import { RequirementError, parseRequirement } from './requirement.js';

export const DEFAULT_INDEX = 'https://pypi.org/simple/';

/** The `pypi:` section of airlock.yaml. */
export const pypiSectionSchema = z
  .object({
    index: httpUrlSchema('airlock sends no credentials to a package index yet, so use one that needs none').default(DEFAULT_INDEX),
    requirements: z
      .array(
        z.string().superRefine((r, ctx) => {
          try {
            parseRequirement(r);
          } catch (e) {
            ctx.addIssue({ code: 'custom', message: (e as RequirementError).message });
          }
        }),
      )
      .default([]),
    /** pip requirements files, relative to airlock.yaml. */
    requirementFiles: z.array(z.string().min(1)).default([]),
    /** never: wheels only; fallback: an sdist when no wheel of that version fits; always: each chosen version's sdist too. */
    sdists: z.enum(['never', 'fallback', 'always']).default('fallback'),
    /** uv.lock, pylock.toml or poetry.lock, relative to airlock.yaml: exact pins, nothing re-resolved. */
    lockfiles: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .refine(
    (s) => s.requirements.length + s.requirementFiles.length + s.lockfiles.length > 0,
    'give requirements, requirementFiles or lockfiles',
  );

export type PypiSection = z.infer<typeof pypiSectionSchema>;
