import { createHash } from 'node:crypto';
import type { Digest } from '../../core/digest.js';
import { AirlockError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import type { HttpClient, SmallResponse } from '../../core/http.js';
import { type Challenge, parseChallenge, tokenUrl } from './challenge.js';
import { type Credential, findCredential } from './credentials.js';
import { MANIFEST_ACCEPT } from './media-types.js';
import { DOCKER_HUB, DOCKER_HUB_API } from './reference.js';

const MAX_MANIFEST_BYTES = 4 << 20;

export interface RegistrySettings {
  /** Another registry that serves the same repositories (a pull-through mirror). */
  mirror?: string;
  /** Plain HTTP (loopback hosts are always plain HTTP, as docker allows them). */
  insecure?: boolean;
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

/** The base URL airlock talks to for a registry name. */
export function registryBase(registry: string, settings: RegistrySettings = {}): string {
  if (settings.mirror) return settings.mirror.replace(/\/+$/, '');
  const host = registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
  const loopback = /^(localhost|127\.[0-9.]+|\[::1\])(:\d+)?$/.test(host);
  return `${settings.insecure || loopback ? 'http' : 'https'}://${host}`;
}

/**
 * One registry endpoint (scheme + host), with the distribution auth dance: ping `/v2/` for
 * the challenge, then per repository either a Bearer token from the realm (anonymous, or
 * with Basic credentials from the user's auth files) or Basic auth directly.
 */
export class RegistryClient {
  private challenge: Challenge | null | undefined;
  private readonly tokens = new Map<string, Promise<string>>();
  private credential: Promise<Credential | undefined> | undefined;

  constructor(
    private readonly http: HttpClient,
    readonly base: string,
  ) {}

  private credentials(): Promise<Credential | undefined> {
    const host = new URL(this.base).host;
    this.credential ??= findCredential(host === DOCKER_HUB_API ? DOCKER_HUB : host);
    return this.credential;
  }

  private async ping(): Promise<Challenge | null> {
    if (this.challenge === undefined) {
      const res = await this.http.fetchSmall(`${this.base}/v2/`, { maxBytes: 64 << 10, label: this.base });
      this.challenge = res.status === 401 ? (parseChallenge(res.headers['www-authenticate']) ?? null) : null;
    }
    return this.challenge;
  }

  /** Authorization for pulling from one repository, or none when the registry is open. */
  async authHeaders(path: string): Promise<Record<string, string>> {
    const c = await this.ping();
    if (!c) return {};
    const cred = await this.credentials();
    const basic = cred ? `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}` : undefined;
    if (c.scheme === 'basic') {
      if (!basic)
        throw new AirlockError(
          'AUTH_REQUIRED',
          `${this.base}: the registry wants credentials; log in with podman/docker login or set AIRLOCK_REGISTRY_USER and AIRLOCK_REGISTRY_PASSWORD`,
        );
      return { authorization: basic };
    }
    const scope = `repository:${path}:pull`;
    let token = this.tokens.get(scope);
    if (!token) {
      token = this.fetchToken(c, scope, basic);
      this.tokens.set(scope, token);
      token.catch(() => this.tokens.delete(scope));
    }
    return { authorization: `Bearer ${await token}` };
  }

  private async fetchToken(c: Challenge, scope: string, basic: string | undefined): Promise<string> {
    const url = tokenUrl(c, scope);
    if (!url) throw new AirlockError('HTTP_ERROR', `${this.base}: a Bearer challenge without a realm`);
    const res = await this.http.fetchSmall(url, {
      headers: basic ? { authorization: basic } : {},
      maxBytes: 1 << 20,
      label: `${this.base} token`,
    });
    if (res.status === 401 || res.status === 403) {
      throw new AirlockError(
        'AUTH_REQUIRED',
        `${this.base}: the token service refused ${scope}${basic ? ' with the stored credentials' : ' anonymously; log in with podman/docker login'}`,
      );
    }
    if (res.status !== 200) throw new AirlockError('HTTP_ERROR', `${this.base}: the token service answered HTTP ${res.status}`);
    let doc: { token?: unknown; access_token?: unknown };
    try {
      doc = JSON.parse(res.body.toString('utf8')) as typeof doc;
    } catch {
      throw new AirlockError('UPSTREAM_INVALID', `${this.base}: the token service sent something that is not JSON`);
    }
    const token = typeof doc.token === 'string' ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : undefined;
    if (!token) throw new AirlockError('UPSTREAM_INVALID', `${this.base}: the token service sent no token`);
    return token;
  }

  private async get(path: string, url: string, headers: Record<string, string>, label: string): Promise<SmallResponse> {
    const send = async () =>
      this.http.fetchSmall(url, { headers: { ...(await this.authHeaders(path)), ...headers }, maxBytes: MAX_MANIFEST_BYTES, label });
    let res = await send();
    if (res.status === 401 && this.challenge === null) {
      // The registry is open at /v2/ but guards this repository: learn its challenge and retry once.
      this.challenge = parseChallenge(res.headers['www-authenticate']) ?? null;
      if (this.challenge) res = await send();
    }
    return res;
  }

  /** A manifest or index by tag or digest, byte for byte, with the digest of those bytes. */
  async manifest(path: string, reference: string, label: string): Promise<FetchedManifest | undefined> {
    const url = this.manifestUrl(path, reference);
    const res = await this.get(path, url, { accept: MANIFEST_ACCEPT }, label);
    if (res.status === 404) return undefined;
    if (res.status === 401 || res.status === 403)
      throw new AirlockError('AUTH_REQUIRED', `${label}: ${redactUrl(url)} refused access (HTTP ${res.status})`);
    if (res.status !== 200) throw new AirlockError('HTTP_ERROR', `${label}: ${redactUrl(url)} returned HTTP ${res.status}`);
    const digest = `sha256:${createHash('sha256').update(res.body).digest('hex')}` as Digest;
    const claimed = res.headers['docker-content-digest'];
    if (claimed && claimed.startsWith('sha256:') && claimed !== digest) {
      throw new AirlockError('DIGEST_MISMATCH', `${label}: the registry says ${claimed}, the manifest it sent hashes to ${digest}`);
    }
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new AirlockError('DIGEST_MISMATCH', `${label}: asked for ${reference}, the manifest it sent hashes to ${digest}`);
    }
    return { bytes: res.body, mediaType: (res.headers['content-type'] ?? '').split(';')[0]!.trim(), digest };
  }

  /** The referrers API's index for a digest, or undefined where the registry lacks the API. */
  async referrers(path: string, digest: Digest, label: string): Promise<Buffer | undefined> {
    const res = await this.get(
      path,
      `${this.base}/v2/${path}/referrers/${digest}`,
      { accept: 'application/vnd.oci.image.index.v1+json' },
      label,
    );
    if (res.status !== 200 || !(res.headers['content-type'] ?? '').includes('application/vnd.oci.image.index.v1+json')) return undefined;
    return res.body;
  }

  manifestUrl(path: string, reference: string): string {
    return `${this.base}/v2/${path}/manifests/${reference}`;
  }

  blobUrl(path: string, digest: Digest): string {
    return `${this.base}/v2/${path}/blobs/${digest}`;
  }
}

/** One client per endpoint and HTTP client, so tokens are fetched once per run. */
const clients = new WeakMap<HttpClient, Map<string, RegistryClient>>();

export function registryClient(http: HttpClient, base: string): RegistryClient {
  let byBase = clients.get(http);
  if (!byBase) clients.set(http, (byBase = new Map()));
  let c = byBase.get(base);
  if (!c) byBase.set(base, (c = new RegistryClient(http, base)));
  return c;
}

/** `https://host/v2/<path>/{blobs|manifests}/<digest>` → its endpoint, repository path and kind. */
export function parseContentUrl(url: string): { base: string; path: string; kind: 'blobs' | 'manifests' } | undefined {
  const m = /^(https?:\/\/[^/]+(?:\/.*?)?)\/v2\/(.+)\/(blobs|manifests)\/sha256:[0-9a-f]{64}$/.exec(url);
  return m ? { base: m[1]!, path: m[2]!, kind: m[3] as 'blobs' | 'manifests' } : undefined;
}
