import { homedir } from 'node:os';
import { join } from 'node:path';
import { AirlockError } from '../../core/errors.js';
import { readOptionalConfig } from '../../core/fsutil.js';
import { DOCKER_HUB } from './reference.js';

export interface Credential {
  username: string;
  password: string;
}

/** The container auth files, in the order podman and skopeo read them. */
export function authFilePaths(env: NodeJS.ProcessEnv = process.env): string[] {
  const paths: string[] = [];
  if (env.REGISTRY_AUTH_FILE) paths.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) paths.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  paths.push(join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json'));
  return paths;
}

/** Keys a registry may be filed under: `ghcr.io`, `https://ghcr.io`, and Docker Hub's historic URL. */
function keysFor(registry: string): string[] {
  const keys = [registry, `https://${registry}`, `http://${registry}`];
  if (registry === DOCKER_HUB) keys.push('https://index.docker.io/v1/', 'index.docker.io', 'registry-1.docker.io');
  return keys;
}

/** Credentials for one registry from an auth file's `auths` (base64 `user:password`, or username/password). */
export function credentialFrom(doc: unknown, registry: string): Credential | undefined {
  const auths = (doc as { auths?: Record<string, { auth?: string; username?: string; password?: string }> } | null)?.auths;
  if (!auths || typeof auths !== 'object') return undefined;
  for (const key of keysFor(registry)) {
    const e = auths[key];
    if (!e) continue;
    if (typeof e.auth === 'string' && e.auth) {
      const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (typeof e.username === 'string' && typeof e.password === 'string') return { username: e.username, password: e.password };
  }
  return undefined;
}

/**
 * Credentials for a registry: `AIRLOCK_REGISTRY_USER`/`AIRLOCK_REGISTRY_PASSWORD` scoped by
 * `AIRLOCK_REGISTRY_HOST` when set, else the first auth file that names it. Never written
 * into locks, bundles or logs: they only ever go into Authorization headers.
 */
export async function findCredential(registry: string, env: NodeJS.ProcessEnv = process.env): Promise<Credential | undefined> {
  if (
    env.AIRLOCK_REGISTRY_USER &&
    env.AIRLOCK_REGISTRY_PASSWORD &&
    (!env.AIRLOCK_REGISTRY_HOST || env.AIRLOCK_REGISTRY_HOST === registry)
  ) {
    return { username: env.AIRLOCK_REGISTRY_USER, password: env.AIRLOCK_REGISTRY_PASSWORD };
  }
  for (const path of authFilePaths(env)) {
    const text = await readOptionalConfig(path);
    if (text === undefined) continue;
    const c = credentialFrom(parseAuthFile(text, path), registry);
    if (c) return c;
  }
  return undefined;
}

/**
 * An auth file that is there but broken is an error, not "no credentials": podman and docker
 * refuse it too, and a pull that silently goes anonymous fails later with a misleading 401.
 * The messages never quote the file, which holds secrets (JSON.parse's message would).
 */
function parseAuthFile(text: string, path: string): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new AirlockError('CONFIG_INVALID', `${path}: is not valid JSON`, {
      hint: 'fix or remove it (podman login and docker login rewrite it)',
    });
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new AirlockError('CONFIG_INVALID', `${path}: is not a JSON object`);
  const auths = (doc as { auths?: unknown }).auths;
  if (auths !== undefined && (!auths || typeof auths !== 'object' || Array.isArray(auths)))
    throw new AirlockError('CONFIG_INVALID', `${path}: "auths" is not an object`);
  return doc;
}
