import { AirlockError } from '../core/errors.js';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  ki: 2 ** 10,
  kib: 2 ** 10,
  mi: 2 ** 20,
  mib: 2 ** 20,
  gi: 2 ** 30,
  gib: 2 ** 30,
  ti: 2 ** 40,
  tib: 2 ** 40,
};

/**
 * Parses a media size such as `700M`, `4.7G` or `25GiB`. Plain K/M/G/T are decimal because
 * media are sold that way: a "4.7 GB" DVD holds 4.7e9 bytes, and 4.7 GiB would not fit.
 */
export function parseSize(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const factor = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || factor === undefined) {
    throw new AirlockError('USAGE', `${what}: "${text}" is not a size (examples: 700M, 4.7G, 25GiB)`);
  }
  const n = Math.floor(Number(m[1]) * factor);
  if (!Number.isSafeInteger(n) || n <= 0) throw new AirlockError('USAGE', `${what}: "${text}" is out of range`);
  return n;
}
