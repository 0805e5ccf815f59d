import { z } from 'zod';
import { httpUrlSchema } from '../../manifest/url.js';

/** The `npm:` section of airlock.yaml. */
export const npmSectionSchema = z
  .object({
    /** Where packages come from; default: npm's own configuration (.npmrc beside airlock.yaml, the user's, `npm config get registry`); scoped registries and credentials always come from .npmrc. */
    registry: httpUrlSchema('npm credentials come from .npmrc (//host/:_authToken=${TOKEN}), as npm reads them').optional(),
    /** Specs as `npm install` takes them: `react@^18`, `@scope/tool@2`, `typescript`, `alias@npm:pkg@1`. */
    packages: z.array(z.string().min(1)).default([]),
    /** package-lock.json (lockfileVersion 2 or 3) or npm-shrinkwrap.json, relative to airlock.yaml: exact tarballs, nothing re-resolved. */
    lockfiles: z.array(z.string().min(1)).default([]),
    includeDev: z.boolean().default(true),
  })
  .strict()
  .refine((s) => s.packages.length + s.lockfiles.length > 0, 'give packages or lockfiles');

export type NpmSection = z.infer<typeof npmSectionSchema>;
