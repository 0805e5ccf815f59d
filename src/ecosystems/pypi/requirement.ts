import { validRange } from '@renovatebot/pep440';
import { type Marker, MarkerError, parseMarker } from './markers.js';
import { isValidName, normalizeName } from './names.js';

/** A PEP 508 dependency specifier. */
export interface Requirement {
  /** Normalised. */
  name: string;
  extras: string[];
  /** PEP 440 specifier set, '' for any version. */
  specifier: string;
  url?: string;
  marker?: Marker;
}

export class RequirementError extends Error {}

/** Parses `name[extra,...] (specifier | @ url) ; marker`. */
export function parseRequirement(text: string): Requirement {
  const [main, ...rest] = splitMarker(text);
  let marker: Marker | undefined;
  if (rest.length) {
    try {
      marker = parseMarker(rest.join(';'));
    } catch (e) {
      throw new RequirementError(`"${text}": ${(e as MarkerError).message}`);
    }
  }
  const m = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*(.*?)\s*$/.exec(main!);
  if (!m || !isValidName(m[1]!)) throw new RequirementError(`"${text}": expected a project name first`);
  const extras = (m[2] ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map(normalizeName);
  let spec = m[3]!;
  let url: string | undefined;
  if (spec.startsWith('@')) {
    url = spec.slice(1).trim();
    spec = '';
  } else if (spec.startsWith('(') && spec.endsWith(')')) {
    spec = spec.slice(1, -1).trim();
  }
  spec = spec.replace(/\s+/g, '');
  if (spec && !validRange(spec)) throw new RequirementError(`"${text}": "${spec}" is not a PEP 440 version specifier`);
  return { name: normalizeName(m[1]!), extras, specifier: spec, ...(url ? { url } : {}), ...(marker ? { marker } : {}) };
}

/** Splits at the first `;` outside a URL (a URL requirement needs whitespace before its `;`). */
function splitMarker(text: string): string[] {
  const at = text.includes('@') ? text.search(/\s;/) : text.indexOf(';');
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at).replace(/^\s*;/, '')];
}
