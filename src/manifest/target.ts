import { z } from 'zod';

/**
 * The closed side's platforms in one vocabulary; each ecosystem maps it to its own terms
 * (wheel tags, npm os/cpu, OCI platforms, conda subdirs). Never the machine airlock runs on.
 */
export const targetSchema = z
  .object({
    platforms: z
      .array(z.string().regex(/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/, 'expected os/arch such as linux/amd64'))
      .default(['linux/amd64']),
    python: z.array(z.string().regex(/^3\.\d+(\.\d+)?$/, 'expected a Python version such as "3.12" (or "3.12.4" to pin the patch level)')).default([]),
    libc: z
      .string()
      .regex(/^(glibc|musl)-\d+\.\d+$/, 'expected glibc-X.Y or musl-X.Y')
      .optional(),
  })
  .strict();

export type Target = z.infer<typeof targetSchema>;
