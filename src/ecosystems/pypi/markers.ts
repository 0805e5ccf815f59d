import { valid } from '@renovatebot/pep440';
import { contains } from './specifiers.js';
import { normalizeName } from './names.js';

/** The values PEP 508 markers test, for one target interpreter and platform. */
export type MarkerEnvironment = Record<
  | 'python_version'
  | 'python_full_version'
  | 'os_name'
  | 'sys_platform'
  | 'platform_release'
  | 'platform_system'
  | 'platform_version'
  | 'platform_machine'
  | 'platform_python_implementation'
  | 'implementation_name'
  | 'implementation_version',
  string
>;

const VARIABLES = new Set([
  'python_version',
  'python_full_version',
  'os_name',
  'sys_platform',
  'platform_release',
  'platform_system',
  'platform_version',
  'platform_machine',
  'platform_python_implementation',
  'implementation_name',
  'implementation_version',
  'extra',
  // PEP 751: sets, defined only where a lockfile is evaluated.
  'extras',
  'dependency_groups',
  // Legacy spellings (PEP 345) that old metadata still carries.
  'os.name',
  'sys.platform',
  'platform.version',
  'platform.machine',
  'platform.python_implementation',
  'python_implementation',
]);

const LEGACY: Record<string, string> = {
  'os.name': 'os_name',
  'sys.platform': 'sys_platform',
  'platform.version': 'platform_version',
  'platform.machine': 'platform_machine',
  'platform.python_implementation': 'platform_python_implementation',
  python_implementation: 'platform_python_implementation',
};

type Operand = { kind: 'var'; name: string } | { kind: 'str'; value: string };
export type Marker = { kind: 'cmp'; left: Operand; op: string; right: Operand } | { kind: 'and' | 'or'; left: Marker; right: Marker };

export class MarkerError extends Error {}

const TOKEN = /\s*(\(|\)|===|==|!=|<=|>=|~=|<|>|not\s+in\b|in\b|and\b|or\b|'[^']*'|"[^"]*"|[A-Za-z_][A-Za-z0-9_.]*)/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(text);
    if (!m) throw new MarkerError(`unexpected "${text.slice(at).trim()}" in marker "${text}"`);
    out.push(m[1]!.replace(/\s+/g, ' '));
    at = TOKEN.lastIndex;
  }
  return out;
}

/** Parses a PEP 508 marker expression (the part after `;`). */
export function parseMarker(text: string): Marker {
  const tokens = tokenize(text);
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const take = (): string => {
    const t = tokens[i++];
    if (t === undefined) throw new MarkerError(`marker "${text}" ends early`);
    return t;
  };
  const operand = (): Operand => {
    const t = take();
    if (/^['"]/.test(t)) {
      // PEP 508's python_str_c has no backslash; packaging rejects one as a bad escape.
      if (t.includes('\\')) throw new MarkerError(`invalid quoted string ${t} in "${text}"`);
      return { kind: 'str', value: t.slice(1, -1) };
    }
    if (VARIABLES.has(t)) return { kind: 'var', name: LEGACY[t] ?? t };
    throw new MarkerError(`"${t}" is not a marker variable or a quoted string in "${text}"`);
  };
  const expr = (): Marker => {
    if (peek() === '(') {
      take();
      const inner = or();
      if (take() !== ')') throw new MarkerError(`missing ")" in "${text}"`);
      return inner;
    }
    const left = operand();
    const op = take();
    if (!['===', '==', '!=', '<=', '>=', '~=', '<', '>', 'in', 'not in'].includes(op)) {
      throw new MarkerError(`"${op}" is not a marker operator in "${text}"`);
    }
    return { kind: 'cmp', left, op, right: operand() };
  };
  // `and` binds tighter than `or`; both associate to the left.
  const chain = (op: 'and' | 'or', next: () => Marker) => (): Marker => {
    let m = next();
    while (peek() === op) {
      take();
      m = { kind: op, left: m, right: next() };
    }
    return m;
  };
  const and = chain('and', expr);
  const or: () => Marker = chain('or', and);
  const m = or();
  if (i !== tokens.length) throw new MarkerError(`unexpected "${tokens[i]}" in marker "${text}"`);
  return m;
}

function compareValues(left: string, op: string, right: string): boolean {
  if (op === 'in') return right.includes(left);
  if (op === 'not in') return !right.includes(left);
  if (op === '===') return left === right;
  // As packaging does: a version comparison when both sides are versions, prereleases
  // allowed; otherwise strings are only equal or not: `<=` and `>=` hold when equal, `<` and
  // `>` never.
  if (valid(left) && valid(right)) return contains(left, `${op}${right}`, { prereleases: true });
  if (op === '==' || op === '<=' || op === '>=') return left === right;
  if (op === '!=') return left !== right;
  if (op === '~=') throw new MarkerError(`cannot compare "${left}" ~= "${right}": not versions`);
  return false;
}

/** The PEP 751 sets a lockfile's markers may test; absent anywhere else. */
export interface LockMarkerSets {
  extras: readonly string[];
  dependency_groups: readonly string[];
}

/** Evaluates a marker for one environment; `extras` are the extras being installed. */
export function evaluateMarker(m: Marker, env: MarkerEnvironment, extras: readonly string[] = [], sets?: LockMarkerSets): boolean {
  if (m.kind !== 'cmp') {
    const l = evaluateMarker(m.left, env, extras, sets);
    return m.kind === 'and' ? l && evaluateMarker(m.right, env, extras, sets) : l || evaluateMarker(m.right, env, extras, sets);
  }
  return evaluateComparison(m, env, extras, sets);
}

const isVar = (o: Operand, name: string): boolean => o.kind === 'var' && o.name === name;

function evaluateComparison(
  m: Extract<Marker, { kind: 'cmp' }>,
  env: MarkerEnvironment,
  extras: readonly string[],
  sets?: LockMarkerSets,
): boolean {
  for (const name of ['extras', 'dependency_groups'] as const) {
    if (!isVar(m.left, name) && !isVar(m.right, name)) continue;
    if (!sets) throw new MarkerError(`"${name}" is only defined in a lockfile's markers`);
    if (m.left.kind !== 'str' || (m.op !== 'in' && m.op !== 'not in'))
      throw new MarkerError(`"${name}" can only be tested with "in" or "not in"`);
    const has = sets[name].map(normalizeName).includes(normalizeName(m.left.value));
    return m.op === 'in' ? has : !has;
  }
  if (isVar(m.left, 'extra') || isVar(m.right, 'extra')) {
    const other = isVar(m.left, 'extra') ? m.right : m.left;
    if (other.kind !== 'str') return false;
    // Extras are names (PEP 685), compared normalised and never as versions ("v2" is not "v2a3").
    const wanted = normalizeName(other.value);
    const matches = extras.map(normalizeName).includes(wanted);
    if (m.op === '==' || m.op === '===') return matches;
    if (m.op === '!=') return !matches;
    return false;
  }
  const value = (o: Operand): string => (o.kind === 'str' ? o.value : (env[o.name as keyof MarkerEnvironment] ?? ''));
  return compareValues(value(m.left), m.op, value(m.right));
}
