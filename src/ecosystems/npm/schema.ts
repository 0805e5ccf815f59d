import { z } from 'zod';

/** The `npm:` section of airlock.yaml. */
export const npmSectionSchema = z
  .object({
    /** Where version documents come from; default: `npm config get registry`. */
    registry: z
      .string()
      .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'expected an http:// or https:// URL')
      .optional(),
    /** package-lock.json (lockfileVersion 2 or 3) or npm-shrinkwrap.json, relative to airlock.yaml: exact tarballs, nothing re-resolved. */
    lockfiles: z.array(z.string().min(1)).min(1, 'list at least one package-lock.json'),
    includeDev: z.boolean().default(true),
  })
  .strict();

export type NpmSection = z.infer<typeof npmSectionSchema>;
