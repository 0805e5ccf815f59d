import { readFileSync } from 'node:fs';

/** The version in package.json, read once; dist/src/cli → the package root is three up. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string })
  .version;
