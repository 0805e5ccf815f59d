import { z } from 'zod';
import { httpUrlSchema } from '../../manifest/url.js';
import { CHANNEL_CREDENTIALS, channelCredentialProblem } from './channel.js';

/** Where a bare channel name (`conda-forge`) lives, as conda's own `channel_alias` default. */
export const DEFAULT_CHANNEL_ALIAS = 'https://conda.anaconda.org';

const file = z.string().min(1);

/** The `conda:` section of airlock.yaml. */
export const condaSectionSchema = z
  .object({
    /** Channel URLs, or names under `channelAlias` (`conda-forge`). */
    channels: z
      .array(
        z
          .string()
          .min(1)
          .superRefine((c, ctx) => {
            const bad = channelCredentialProblem(c);
            if (bad) ctx.addIssue({ code: 'custom', message: bad });
          }),
      )
      .default([]),
    channelAlias: httpUrlSchema(CHANNEL_CREDENTIALS).default(DEFAULT_CHANNEL_ALIAS),
    /** Match specs, solved for every target subdir plus noarch. */
    specs: z.array(z.string().min(1)).default([]),
    /** conda environment.yml files (their channels and dependencies), relative to airlock.yaml. */
    environmentFiles: z.array(file).default([]),
    /** `conda list --explicit [--md5]` files: exact URLs, nothing re-solved. */
    explicit: z.array(file).default([]),
    /** pixi.lock and conda-lock.yml files: exact URLs for the target subdirs, nothing re-solved. */
    lockfiles: z.array(file).default([]),
    /**
     * What the closed side's machines provide, as the solver's virtual packages
     * (`__glibc=2.28`, `__cuda=12.4`); default from the target (`libc`) and conda's usual floors.
     */
    virtualPackages: z
      .array(z.string().regex(/^__[a-z0-9_-]+=[^=\s]+(=[^=\s]+)?$/, 'expected __name=version[=build], e.g. __cuda=12.4'))
      .optional(),
  })
  .strict()
  .refine(
    (s) => s.specs.length + s.environmentFiles.length + s.explicit.length + s.lockfiles.length > 0,
    'give specs, environmentFiles, explicit or lockfiles',
  )
  .refine((s) => s.specs.length === 0 || s.channels.length > 0, 'specs need at least one channel');

export type CondaSection = z.infer<typeof condaSectionSchema>;
