import { z } from 'zod';
import { isDigest, isHex64 } from '../../core/digest.js';
import { httpUrlSchema, secretQueryProblem } from '../../manifest/url.js';
import { checkServedPath, pathFromUrl } from './paths.js';

const CREDENTIALS = 'airlock sends no credentials for files, so give a URL that needs none, or mark a signed URL with secretQuery: true';

export const fileEntrySchema = z
  .object({
    url: httpUrlSchema(CREDENTIALS, true),
    sha256: z
      .string({ error: 'expected 64 hex characters or sha256:<hex> (quote it if YAML reads it as a number)' })
      .refine((s) => isHex64(s.toLowerCase()) || isDigest(s.toLowerCase()), 'expected 64 hex characters or sha256:<hex>')
      .optional(),
    path: z
      .string()
      .min(1)
      .superRefine((p, ctx) => {
        const bad = checkServedPath(p);
        if (bad) ctx.addIssue({ code: 'custom', message: `path ${bad}` });
      })
      .optional(),
    /**
     * The URL is signed (S3, GCS, Azure SAS) or carries a token in its query: it is used once,
     * by `airlock lock`, and recorded with those values replaced by REDACTED.
     */
    secretQuery: z.boolean().default(false),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (!URL.canParse(e.url)) return;
    const secret = e.secretQuery ? undefined : secretQueryProblem(e.url, CREDENTIALS);
    if (secret) ctx.addIssue({ code: 'custom', path: ['url'], message: secret });
    if (e.path === undefined) {
      const derived = pathFromUrl(e.url);
      if ('problem' in derived) ctx.addIssue({ code: 'custom', path: ['url'], message: `${derived.problem}; give this entry a path:` });
    }
  });

export const filesSectionSchema = z.array(fileEntrySchema).superRefine((entries, ctx) => {
  const seen = new Map<string, number>();
  entries.forEach((e, i) => {
    // zod still runs this when an entry's own checks failed; those errors are reported already.
    const p = URL.canParse(e.url) ? servedPathOf(e) : undefined;
    if (p === undefined) return;
    const first = seen.get(p);
    if (first !== undefined) {
      ctx.addIssue({ code: 'custom', path: [i, e.path ? 'path' : 'url'], message: `serves ${p}, like entry ${first + 1}` });
    }
    seen.set(p, i);
  });
});

export type FileEntry = z.infer<typeof fileEntrySchema>;
export type FilesSection = z.infer<typeof filesSectionSchema>;

/** Where the closed side serves an entry: its `path`, or the URL's last segment; undefined when neither is a served path. */
export function servedPathOf(e: FileEntry): string | undefined {
  if (e.path !== undefined) return checkServedPath(e.path) ? undefined : e.path;
  const derived = pathFromUrl(e.url);
  return 'path' in derived ? derived.path : undefined;
}
