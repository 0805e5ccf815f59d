/**
 * The Simple Repository API as pure functions: PEP 503 HTML and PEP 691 JSON (api-version
 * 1.1: PEP 700 `versions`, `size`, `upload-time`), PEP 658/714 core-metadata and PEP 592
 * yanking. No I/O here; serve.ts feeds it store rows.
 */

export const JSON_V1 = 'application/vnd.pypi.simple.v1+json';
export const HTML_V1 = 'application/vnd.pypi.simple.v1+html';
export const HTML_LEGACY = 'text/html';
export const API_VERSION = '1.1';

export type SimpleFormat = typeof JSON_V1 | typeof HTML_V1 | typeof HTML_LEGACY;

export interface SimpleFile {
  filename: string;
  /** Relative to the project page. */
  url: string;
  sha256: string;
  size: number;
  requiresPython?: string;
  /** false, true (no reason) or the reason. */
  yanked: boolean | string;
  /** sha256 of the `.metadata` file, when it is served. */
  coreMetadataSha256?: string;
  uploadTime?: string;
}

/**
 * PEP 691 content negotiation: the highest-q type we serve; ties go to the order the
 * client listed them. `undefined` means 406. No Accept header means text/html.
 */
export function negotiate(accept: string | undefined): SimpleFormat | undefined {
  if (!accept || accept.trim() === '') return HTML_LEGACY;
  const offers: { type: SimpleFormat; q: number; i: number }[] = [];
  accept.split(',').forEach((part, i) => {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    const qp = params.find((p) => p.startsWith('q='));
    const q = qp ? Number(qp.slice(2)) : 1;
    if (!Number.isFinite(q) || q <= 0) return;
    const served: SimpleFormat[] =
      type === JSON_V1 || type === HTML_V1 || type === HTML_LEGACY
        ? [type]
        : type === 'application/vnd.pypi.simple.latest+json'
          ? [JSON_V1]
          : type === 'application/vnd.pypi.simple.latest+html'
            ? [HTML_V1]
            : type === '*/*' || type === 'text/*'
              ? [HTML_LEGACY]
              : [];
    for (const t of served) offers.push({ type: t, q, i });
  });
  offers.sort((a, b) => b.q - a.q || a.i - b.i);
  return offers[0]?.type;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>\n<html>\n<head>\n<meta name="pypi:repository-version" content="${API_VERSION}">\n<title>${esc(title)}</title>\n</head>\n<body>\n<h1>${esc(title)}</h1>\n${body}</body>\n</html>\n`;
}

export function renderIndex(projects: readonly string[], format: SimpleFormat): string {
  if (format === JSON_V1) {
    return JSON.stringify({ meta: { 'api-version': API_VERSION }, projects: projects.map((name) => ({ name })) });
  }
  return page('Simple index', projects.map((p) => `<a href="${esc(encodeURIComponent(p))}/">${esc(p)}</a><br>\n`).join(''));
}

export function renderProject(name: string, versions: readonly string[], files: readonly SimpleFile[], format: SimpleFormat): string {
  if (format === JSON_V1) {
    return JSON.stringify({
      meta: { 'api-version': API_VERSION },
      name,
      versions,
      files: files.map((f) => ({
        filename: f.filename,
        url: f.url,
        hashes: { sha256: f.sha256 },
        ...(f.requiresPython ? { 'requires-python': f.requiresPython } : {}),
        'core-metadata': f.coreMetadataSha256 ? { sha256: f.coreMetadataSha256 } : false,
        yanked: f.yanked,
        size: f.size,
        ...(f.uploadTime ? { 'upload-time': f.uploadTime } : {}),
      })),
    });
  }
  const links = files.map((f) => {
    const attrs = [`href="${esc(`${f.url}#sha256=${f.sha256}`)}"`];
    if (f.requiresPython) attrs.push(`data-requires-python="${esc(f.requiresPython)}"`);
    if (f.yanked !== false) attrs.push(`data-yanked="${esc(typeof f.yanked === 'string' ? f.yanked : '')}"`);
    if (f.coreMetadataSha256) {
      // PEP 714: the new name, and the old one for clients that predate it.
      attrs.push(`data-core-metadata="sha256=${f.coreMetadataSha256}"`, `data-dist-info-metadata="sha256=${f.coreMetadataSha256}"`);
    }
    return `<a ${attrs.join(' ')}>${esc(f.filename)}</a><br>\n`;
  });
  return page(`Links for ${name}`, links.join(''));
}
