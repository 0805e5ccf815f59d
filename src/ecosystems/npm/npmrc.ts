import { spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AirlockError } from '../../core/errors.js';
import { readOptionalConfig } from '../../core/fsutil.js';

/** The parts of npm's configuration that decide where a package comes from and how to authenticate. */
export interface NpmConfig {
  registry: string;
  /** `@scope` → registry URL */
  scopes: Record<string, string>;
  /** Every `//host/path/:key` setting (credentials), by its nerf-dart prefix and key. */
  credentials: Record<string, string>;
}

/**
 * `key=value` lines of an .npmrc, `${VAR}` expanded from the environment as npm does. Any
 * other line is an error naming `file` and the line number, never its text (a pasted token).
 */
export function parseNpmrc(text: string, env: NodeJS.ProcessEnv = process.env, file = '.npmrc'): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    // An ini section header: npm's parser nests what follows, which airlock never reads.
    if (!line || line.startsWith('#') || line.startsWith(';') || /^\[[^\]]*\]$/.test(line)) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new AirlockError('CONFIG_INVALID', `${file}: line ${i + 1} is not key=value`);
    const expand = (s: string) => s.replace(/\$\{([^}]+)\}/g, (_, v: string) => env[v] ?? '');
    out[expand(line.slice(0, eq).trim())] = expand(
      line
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1'),
    );
  }
  return out;
}

async function readNpmrc(path: string): Promise<Record<string, string>> {
  const text = await readOptionalConfig(path);
  return text === undefined ? {} : parseNpmrc(text, process.env, path);
}

/**
 * npm's configuration as it applies to airlock.yaml's directory: the project's .npmrc over
 * the user's (`NPM_CONFIG_USERCONFIG` or ~/.npmrc). Credentials are read from the files
 * because npm will not print them; they only ever go into Authorization headers.
 */
export async function loadNpmConfig(projectDir: string, registryOverride?: string): Promise<NpmConfig> {
  const user = await readNpmrc(process.env.NPM_CONFIG_USERCONFIG ?? join(homedir(), '.npmrc'));
  const project = await readNpmrc(join(projectDir, '.npmrc'));
  const all = { ...user, ...project };
  let registry = registryOverride ?? all.registry;
  if (!registry) {
    const r = spawnSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' });
    registry = r.status === 0 ? r.stdout.trim() : '';
  }
  if (!URL.canParse(registry))
    throw new AirlockError('CONFIG_INVALID', "npm.registry is not set and npm's configuration names no registry");
  const scopes: Record<string, string> = {};
  const credentials: Record<string, string> = {};
  for (const [k, v] of Object.entries(all)) {
    const scope = /^(@[^:]+):registry$/.exec(k);
    if (scope) scopes[scope[1]!] = v;
    if (k.startsWith('//')) credentials[k] = v;
  }
  return { registry: registry.replace(/\/?$/, '/'), scopes, credentials };
}

/** The registry a package comes from: its scope's, else the default. */
export function registryFor(cfg: NpmConfig, name: string): string {
  const scope = name.startsWith('@') ? name.slice(0, name.indexOf('/')) : undefined;
  return (scope && cfg.scopes[scope]?.replace(/\/?$/, '/')) || cfg.registry;
}

/** The Authorization header npm would send to this URL: the longest matching `//host/path/` with a token or basic auth. */
export function authHeaderFor(cfg: NpmConfig, url: string): Record<string, string> {
  const u = new URL(url);
  const parts = u.pathname.split('/').slice(0, -1);
  for (let i = parts.length; i >= 1; i--) {
    const nerf = `//${u.host}${parts.slice(0, i).join('/')}/`;
    const token = cfg.credentials[`${nerf}:_authToken`];
    if (token) return { authorization: `Bearer ${token}` };
    const auth = cfg.credentials[`${nerf}:_auth`];
    if (auth) return { authorization: `Basic ${auth}` };
    const user = cfg.credentials[`${nerf}:username`];
    const pass = cfg.credentials[`${nerf}:_password`];
    if (user && pass)
      return { authorization: `Basic ${Buffer.from(`${user}:${Buffer.from(pass, 'base64').toString('utf8')}`).toString('base64')}` };
  }
  return {};
}
