import { z } from 'zod';

/** An http:// or https:// URL, as every upstream in airlock.yaml must be. */
export const httpUrlSchema = z.string().refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'expected an http:// or https:// URL');
