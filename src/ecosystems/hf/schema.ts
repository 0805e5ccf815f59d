import { z } from 'zod';
import { httpUrlSchema } from '../../manifest/url.js';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

const REPO = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

/** The `huggingface:` section of airlock.yaml. */
export const hfSectionSchema = z
  .object({
    endpoint: httpUrlSchema('a Hub token comes from HF_TOKEN or the file huggingface-cli login writes').default(DEFAULT_ENDPOINT),
    repos: z
      .array(
        z
          .object({
            repo: z
              .string()
              .regex(REPO, 'expected org/name')
              .refine((r) => !r.split('/').some((p) => p === '.' || p === '..'), 'expected org/name'),
            type: z.enum(['model', 'dataset']).default('model'),
            /** A branch, tag or commit; the lock pins the 40-hex commit it names today. */
            revision: z.string().min(1).default('main'),
            include: z.array(z.string().min(1)).default([]),
            exclude: z.array(z.string().min(1)).default([]),
          })
          .strict(),
      )
      .min(1, 'list at least one repo'),
  })
  .strict();

export type HfSection = z.infer<typeof hfSectionSchema>;
export type HfRepoSpec = HfSection['repos'][number];
