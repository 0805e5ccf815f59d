import { homedir } from 'node:os';
import { join } from 'node:path';
import { AirlockError } from '../../core/errors.js';
import { readOptionalConfig } from '../../core/fsutil.js';
import { redactUrl } from '../../core/redact.js';
import type { HttpClient } from '../../core/http.js';
import type { HfSnapshot } from './record.js';

/** An entry of the Hub's tree API (`GET /api/models/{repo}/tree/{rev}?recursive=true`). */
export interface TreeEntry {
  type: 'file' | 'directory';
  path: string;
  size: number;
  oid: string;
  lfs?: { oid: string; size: number; pointerSize?: number };
}

/** HF_TOKEN, else the token file `huggingface-cli login` writes (HF_TOKEN_PATH, HF_HOME). */
export async function hubToken(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env.HF_TOKEN) return env.HF_TOKEN;
  const path = env.HF_TOKEN_PATH ?? join(env.HF_HOME ?? join(homedir(), '.cache', 'huggingface'), 'token');
  const t = (await readOptionalConfig(path))?.trim();
  if (!t) return undefined;
  // huggingface-cli writes the token alone; anything else (two lines, a binary file) would
  // otherwise go out as a bad Authorization header or not at all.
  if (!/^[\x21-\x7e]+$/.test(t))
    throw new AirlockError('CONFIG_INVALID', `${path}: is not one token (one line, printable, no spaces)`, {
      hint: 'run huggingface-cli login again, or set HF_TOKEN',
    });
  return t;
}

/** The Hub's API as far as a snapshot needs it: revision → commit, and the recursive tree, page by page. */
export class HubClient {
  constructor(
    private readonly http: HttpClient,
    private readonly endpoint: string,
    private readonly token: string | undefined,
  ) {}

  headers(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  private async json(url: string, label: string, missing: string): Promise<{ body: unknown; link?: string }> {
    const res = await this.http.fetchSmall(url, { headers: { accept: 'application/json', ...this.headers() }, maxBytes: 64 << 20, label });
    if (res.status === 401 || res.status === 403) {
      throw new AirlockError(
        'AUTH_REQUIRED',
        `${label}: the Hub refused access (HTTP ${res.status}${res.headers['x-error-code'] ? `, ${res.headers['x-error-code']}` : ''}); a gated or private repo needs HF_TOKEN`,
      );
    }
    if (res.status === 404) throw new AirlockError('NOT_FOUND', `${label}: ${res.headers['x-error-message'] ?? missing}`);
    if (res.status !== 200) throw new AirlockError('HTTP_ERROR', `${label}: ${redactUrl(url)} returned HTTP ${res.status}`);
    try {
      return { body: JSON.parse(res.body.toString('utf8')), ...(res.headers.link ? { link: res.headers.link } : {}) };
    } catch {
      throw new AirlockError('HTTP_ERROR', `${label}: ${redactUrl(url)} did not answer JSON`);
    }
  }

  /** The 40-hex commit a branch, tag or commit names today. */
  async commitOf(type: HfSnapshot['type'], repo: string, revision: string, label: string): Promise<string> {
    const { body } = await this.json(
      `${this.endpoint}/api/${type}s/${repo}/revision/${encodeURIComponent(revision)}`,
      label,
      `no revision ${revision}`,
    );
    const sha = (body as { sha?: unknown }).sha;
    if (typeof sha !== 'string' || !/^[0-9a-f]{40}$/.test(sha))
      throw new AirlockError('HTTP_ERROR', `${label}: the Hub gave no commit for ${revision}`);
    return sha;
  }

  /** Every file at a commit, following the `Link: <…>; rel="next"` pages. */
  async files(type: HfSnapshot['type'], repo: string, commit: string, label: string): Promise<TreeEntry[]> {
    const out: TreeEntry[] = [];
    let url: string | undefined = `${this.endpoint}/api/${type}s/${repo}/tree/${commit}?recursive=true&expand=false`;
    for (let page = 0; url; page++) {
      if (page > 10_000) throw new AirlockError('HTTP_ERROR', `${label}: the tree never ends`);
      const { body, link } = await this.json(url, label, 'no such tree');
      if (!Array.isArray(body)) throw new AirlockError('HTTP_ERROR', `${label}: the tree API did not answer a list`);
      for (const e of body as TreeEntry[]) {
        if (e.type !== 'file') continue;
        if (typeof e.path !== 'string' || typeof e.size !== 'number' || typeof e.oid !== 'string')
          throw new AirlockError('HTTP_ERROR', `${label}: a tree entry without path, size or oid`);
        if (e.path.split('/').some((p) => p === '' || p === '.' || p === '..'))
          throw new AirlockError('BUNDLE_UNSAFE', `${label}: the tree lists a path "${e.path}"`);
        out.push(e);
      }
      const next = link && /<([^>]+)>\s*;\s*rel="next"/.exec(link);
      url = next ? new URL(next[1]!, url).toString() : undefined;
    }
    return out;
  }
}
