import { z } from 'zod';
import { httpUrlSchema } from '../../manifest/url.js';
import { isDigest, isHex64 } from '../../core/digest.js';

/** A served path: relative, '/'-separated, no '.', '..' or empty segments. */
export function servedPathProblem(p: string): string | undefined {
  if (p.startsWith('/')) return 'must be relative (no leading /)';
  if (p.includes('\\')) return 'must use / not \\';
  if (/[\x00-\x1f\x7f]/.test(p)) return 'contains a control character';
  if (p.split('/').some((s) => s === '' || s === '.' || s === '..')) return "has an empty, '.' or '..' segment";
  return undefined;
}

export const fileEntrySchema = z
  .object({
    url: httpUrlSchema,
    sha256: z
      .string({ error: 'expected 64 hex characters or sha256:<hex> (quote it if YAML reads it as a number)' })
      .refine((s) => isHex64(s.toLowerCase()) || isDigest(s.toLowerCase()), 'expected 64 hex characters or sha256:<hex>')
      .optional(),
    path: z
      .string()
      .min(1)
      .superRefine((p, ctx) => {
        const bad = servedPathProblem(p);
        if (bad) ctx.addIssue({ code: 'custom', message: `path ${bad}` });
      })
      .optional(),
  })
  .strict();

export const filesSectionSchema = z.array(fileEntrySchema).superRefine((entries, ctx) => {
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    // zod still runs this when an entry's own checks failed; those errors are reported already.
    if (!URL.canParse(e.url)) return;
    const p = servedPathOf(e);
    const first = seen.get(p);
    if (first !== undefined) {
      ctx.addIssue({ code: 'custom', path: [i, e.path ? 'path' : 'url'], message: `serves ${p}, like entry ${first + 1}` });
    }
    seen.set(p, i);
  });
});

export type FileEntry = z.infer<typeof fileEntrySchema>;
export type FilesSection = z.infer<typeof filesSectionSchema>;

/** Where the closed side serves an entry: its `path`, or the URL's last segment. */
export function servedPathOf(e: FileEntry): string {
  if (e.path) return e.path;
  const last = new URL(e.url).pathname.split('/').filter(Boolean).at(-1);
  return last ? decodeURIComponent(last) : new URL(e.url).hostname;
}
