import { AirlockError, isAirlockError } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import type { HttpClient } from '../../core/http.js';
import { normalizeName } from './names.js';
import { HTML_LEGACY, JSON_V1 } from './simple.js';

/** One file as an upstream index lists it. */
export interface IndexFile {
  filename: string;
  /** Absolute. */
  url: string;
  sha256?: string;
  size?: number;
  requiresPython?: string;
  yanked: boolean | string;
  /** PEP 658: whether `<url>.metadata` exists, and its sha256 when given. */
  coreMetadata: false | { sha256?: string };
  uploadTime?: string;
}

/** What pip sends: JSON first, then the HTML flavours. */
const ACCEPT = `${JSON_V1}, application/vnd.pypi.simple.v1+html; q=0.1, ${HTML_LEGACY}; q=0.01`;

function unescapeHtml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#0*39;/g, "'")
    .replace(/&#x0*27;/gi, "'")
    .replace(/&amp;/g, '&');
}

function hashOf(fragmentOrValue: string | undefined): string | undefined {
  const m = /sha256=([0-9a-fA-F]{64})/.exec(fragmentOrValue ?? '');
  return m ? m[1]!.toLowerCase() : undefined;
}

/** PEP 503 anchors; attributes read by name, values unescaped. */
export function parseSimpleHtml(html: string, pageUrl: string): IndexFile[] {
  const out: IndexFile[] = [];
  for (const a of html.matchAll(/<a\s([^>]*)>([^<]*)<\/a>/gi)) {
    const attrs = new Map<string, string>();
    for (const m of a[1]!.matchAll(/([a-zA-Z0-9:_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      attrs.set(m[1]!.toLowerCase(), unescapeHtml(m[2] ?? m[3] ?? ''));
    }
    const href = attrs.get('href');
    if (!href) continue;
    const url = new URL(href, pageUrl);
    const filename = decodeURIComponent(url.pathname.split('/').pop() ?? '');
    const metadata = attrs.get('data-core-metadata') ?? attrs.get('data-dist-info-metadata');
    const sha256 = hashOf(url.hash);
    url.hash = '';
    out.push({
      filename,
      url: url.href,
      ...(sha256 ? { sha256 } : {}),
      ...(attrs.get('data-requires-python') ? { requiresPython: attrs.get('data-requires-python')! } : {}),
      yanked: attrs.has('data-yanked') ? attrs.get('data-yanked') || true : false,
      coreMetadata: metadata === undefined || metadata === 'false' ? false : { ...(hashOf(metadata) ? { sha256: hashOf(metadata)! } : {}) },
    });
  }
  return out;
}

interface JsonFile {
  filename?: unknown;
  url?: unknown;
  hashes?: Record<string, unknown>;
  'requires-python'?: unknown;
  yanked?: unknown;
  size?: unknown;
  'upload-time'?: unknown;
  'core-metadata'?: unknown;
  'dist-info-metadata'?: unknown;
}

/** PEP 691 JSON, tolerating fields an index leaves out. */
export function parseSimpleJson(text: string, pageUrl: string): IndexFile[] {
  const doc = JSON.parse(text) as { files?: JsonFile[] };
  return (doc.files ?? []).flatMap((f) => {
    if (typeof f.filename !== 'string' || typeof f.url !== 'string') return [];
    const url = new URL(f.url, pageUrl);
    url.hash = '';
    const sha256 = typeof f.hashes?.sha256 === 'string' ? f.hashes.sha256.toLowerCase() : undefined;
    const cm = f['core-metadata'] ?? f['dist-info-metadata'];
    const cmHash = cm && typeof cm === 'object' ? (cm as Record<string, unknown>).sha256 : undefined;
    return [
      {
        filename: f.filename,
        url: url.href,
        ...(sha256 ? { sha256 } : {}),
        ...(typeof f.size === 'number' ? { size: f.size } : {}),
        ...(typeof f['requires-python'] === 'string' && f['requires-python'] ? { requiresPython: f['requires-python'] } : {}),
        yanked: typeof f.yanked === 'string' ? f.yanked || true : f.yanked === true,
        coreMetadata: cm ? { ...(typeof cmHash === 'string' ? { sha256: cmHash.toLowerCase() } : {}) } : false,
        ...(typeof f['upload-time'] === 'string' ? { uploadTime: f['upload-time'] } : {}),
      } satisfies IndexFile,
    ];
  });
}

/** Reads project pages from a PEP 503/691 index, once per project per run. */
export class IndexClient {
  private readonly pages = new Map<string, Promise<IndexFile[]>>();

  constructor(
    private readonly http: HttpClient,
    private readonly indexUrl: string,
  ) {}

  /** The project's files; empty when the index does not know it. */
  files(name: string): Promise<IndexFile[]> {
    const key = normalizeName(name);
    let p = this.pages.get(key);
    if (!p) {
      p = this.load(key);
      this.pages.set(key, p);
    }
    return p;
  }

  private async load(name: string): Promise<IndexFile[]> {
    const url = new URL(`${encodeURIComponent(name)}/`, this.indexUrl.endsWith('/') ? this.indexUrl : `${this.indexUrl}/`).href;
    let page;
    try {
      page = await this.http.getText(url, { accept: ACCEPT });
    } catch (e) {
      if (isAirlockError(e) && e.code === 'NOT_FOUND') return [];
      throw e;
    }
    const type = (page.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    try {
      return type === JSON_V1 ? parseSimpleJson(page.body, url) : parseSimpleHtml(page.body, url);
    } catch (e) {
      throw new AirlockError('HTTP_ERROR', `pypi: ${redactUrl(url)} is not a readable simple index page (${(e as Error).message})`);
    }
  }
}
