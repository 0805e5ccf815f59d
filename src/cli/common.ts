import type { Command } from 'commander';
import { AirlockError } from '../core/errors.js';
import { Store } from '../core/store.js';
import { ECOSYSTEMS } from '../ecosystems/registry.js';
import { createReporter } from './progress.js';
import type { Reporter } from '../core/report.js';
import { escapeText } from './render.js';

/** Options every command inherits from the program (`--home`, `--json`). */
export interface GlobalOptions {
  home?: string;
  json?: boolean;
}

export function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** Opens the store named by --home/AIRLOCK_HOME, runs `fn`, always closes it. */
export async function withStore<T>(cmd: Command, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await Store.open(globals(cmd).home);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Progress and notes go to stderr, so stdout carries only results (JSON with --json) for scripts. */
export function reporterFor(cmd: Command): Reporter {
  return createReporter({ json: Boolean(globals(cmd).json) });
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Plain left-aligned columns for tables on a terminal; every cell escaped (render.ts). */
export function printTable(headers: string[], cells: string[][]): void {
  const rows = cells.map((r) => r.map(escapeText));
  const widths = headers.map((h) => h.length);
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(headers)}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}

/** A commander option parser for a whole number in [min, max]; anything else is a usage error naming the option. */
export function wholeNumberIn(what: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
    if (!(n >= min && n <= max))
      throw new AirlockError('USAGE', `${what}: "${v.slice(0, 40)}" is not a whole number from ${min} to ${max}`);
    return n;
  };
}

/** `--ecosystem ID`: one of the registry's ids, so a typo is refused rather than matching nothing. */
export function ecosystemId(v: string): string {
  if (ECOSYSTEMS.some((e) => e.id === v)) return v;
  throw new AirlockError(
    'USAGE',
    `--ecosystem: "${v.slice(0, 40)}" is not an ecosystem (known: ${ECOSYSTEMS.map((e) => e.id).join(', ')})`,
  );
}
