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
export type Marker =
  | { kind: 'cmp'; left: Operand; op: string; right: Operand }
  | { kind: 'and' | 'or'; left: Marker; right: Marker };

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
    if (/^['"]/.test(t)) return { kind: 'str', value: t.slice(1, -1) };
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
  const chain =
    (op: 'and' | 'or', next: () => Marker) =>
    (): Marker => {
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

function compareValues(left: string, op: string, right: string, isExtra: boolean): boolean {
  if (isExtra) {
    left = normalizeName(left);
    right = normalizeName(right);
  }
  if (op === 'in') return right.includes(left);
  if (op === 'not in') return !right.includes(left);
  if (op === '===') return left === right;
  // As packaging does: a version comparison when the right side is a valid specifier version,
  // prereleases allowed; otherwise only == and != apply, as plain strings.
  if (valid(left) && valid(right)) return contains(left, `${op}${right}`, { prereleases: true });
  if (op === '==') return left === right;
  if (op === '!=') return left !== right;
  return false;
}

/** Evaluates a marker for one environment; `extras` are the extras being installed. */
export function evaluateMarker(m: Marker, env: MarkerEnvironment, extras: readonly string[] = []): boolean {
  if (m.kind !== 'cmp') {
    const l = evaluateMarker(m.left, env, extras);
    return m.kind === 'and' ? l && evaluateMarker(m.right, env, extras) : l || evaluateMarker(m.right, env, extras);
  }
  return evaluateComparison(m, env, extras);
}

function evaluateComparison(m: Extract<Marker, { kind: 'cmp' }>, env: MarkerEnvironment, extras: readonly string[]): boolean {
  const isExtra = (m.left.kind === 'var' && m.left.name === 'extra') || (m.right.kind === 'var' && m.right.name === 'extra');
  if (isExtra) {
    const other = m.left.kind === 'var' && m.left.name === 'extra' ? m.right : m.left;
    if (other.kind !== 'str') return false;
    const results = (extras.length ? extras : ['']).map((x) =>
      m.left.kind === 'var' ? compareValues(x, m.op, other.value, true) : compareValues(other.value, m.op, x, true),
    );
    // `extra == "x"` holds when any installed extra matches; `extra != "x"` when none does.
    return m.op === '!=' || m.op === 'not in' ? results.every(Boolean) : results.some(Boolean);
  }
  const value = (o: Operand): string => (o.kind === 'str' ? o.value : env[o.name as keyof MarkerEnvironment] ?? '');
  return compareValues(value(m.left), m.op, value(m.right), false);
}
