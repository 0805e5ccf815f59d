import { z } from 'zod';
import { httpUrlSchema } from '../../manifest/url.js';
import { ImageReferenceError, parseReference } from './reference.js';
import { normalizePlatform } from '../../manifest/target.js';

/** The `images:` section of airlock.yaml. */
export const imagesSectionSchema = z
  .array(
    z
      .object({
        ref: z.string().superRefine((r, ctx) => {
          try {
            parseReference(r);
          } catch (e) {
            ctx.addIssue({ code: 'custom', message: (e as ImageReferenceError).message });
          }
        }),
        /** Default: target.platforms; `all` keeps every platform of an index. */
        // Aliases map as in target.platforms; other names pass, since an image's platforms are its own and lock fails naming what it has.
        platforms: z
          .union([
            z.literal('all'),
            z
              .array(
                z
                  .string()
                  .regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, 'expected os/arch[/variant]')
                  .transform((p) => normalizePlatform(p) ?? p),
              )
              .min(1),
          ])
          .optional(),
        /** Signatures, SBOMs and attestations attached to the image (referrers API or tag fallback). */
        referrers: z.boolean().default(true),
      })
      .strict(),
  )
  .min(1, 'list at least one image');

export type ImagesSection = z.infer<typeof imagesSectionSchema>;

/** The optional `registries:` section: per-host settings. */
export const registriesSchema = z.record(
  z.string().min(1),
  z
    .object({
      mirror: httpUrlSchema(
        'registry credentials come from container auth files (podman/docker login, REGISTRY_AUTH_FILE) or AIRLOCK_REGISTRY_USER/_PASSWORD',
      ).optional(),
      insecure: z.boolean().default(false),
    })
    .strict(),
);

export type RegistriesSection = z.infer<typeof registriesSchema>;
