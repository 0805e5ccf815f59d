import { createWriteStream } from 'node:fs';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { pipeline } from 'node:stream/promises';
import { EnvHttpProxyAgent, type Dispatcher, getGlobalDispatcher, interceptors, request, setGlobalDispatcher } from 'undici';
import { type Digest, HashingStream } from './digest.js';
import { AirlockError, describeError } from './errors.js';
import { redactUrl } from './redact.js';
import { hashFile } from './fsutil.js';

export interface HttpClientOptions {
  /** Extra PEM CA certificates, added to Node's default roots. */
  caFile?: string;
  /** Extra attempts after the first. */
  retries?: number;
  /** Base of the exponential backoff, in ms. */
  backoffMs?: number;
  userAgent?: string;
  /** Idle timeout for headers and body, in ms. */
  timeoutMs?: number;
}

export interface DownloadRequest {
  url: string;
  /** A partial file: if it exists, the download resumes from its length. */
  dest: string;
  expectedDigest?: Digest;
  expectedSize?: number;
  /** What messages name; default the URL. */
  label?: string;
  onProgress?: (done: number, total: number | undefined) => void;
  signal?: AbortSignal;
  /** Sent with every attempt (a registry's Authorization); dropped on a cross-origin redirect. */
  headers?: Record<string, string>;
}

/** A whole small response, whatever its status (below 500: those are retried). */
export interface SmallResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface DownloadResult {
  digest: Digest;
  size: number;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** A failure worth another attempt (the server or network may recover). */
class Transient extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * Why a request failed for good: what undici refuses before sending (a scheme other than
 * http or https, a malformed argument) or no URL at all fails the same way on every attempt.
 * 4xx answers are decided where the status is read. Undefined for anything else.
 */
function cannotSucceed(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'UND_ERR_INVALID_ARG')
    return /protocol/i.test((e as Error).message) ? 'only http:// and https:// URLs can be fetched' : describeError(e);
  if (code === 'ERR_INVALID_URL') return 'not a valid URL';
  return undefined;
}

function retryAfter(h: string | string[] | undefined): number | undefined {
  const v = Number(Array.isArray(h) ? h[0] : h);
  return Number.isFinite(v) && v >= 0 ? Math.min(v, 60) * 1000 : undefined;
}

/**
 * Downloads with retries, backoff and resume. Proxies come from HTTP_PROXY / HTTPS_PROXY /
 * NO_PROXY (undici's EnvHttpProxyAgent); an extra CA file serves mirrors with a private CA.
 */
export class HttpClient {
  private dispatcher: Dispatcher | undefined;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(private readonly opts: HttpClientOptions = {}) {
    this.retries = opts.retries ?? 4;
    this.backoffMs = opts.backoffMs ?? 500;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.headers = { 'user-agent': opts.userAgent ?? 'airlock' };
  }

  private async agent(): Promise<Dispatcher> {
    if (this.dispatcher) return this.dispatcher;
    let tls = {};
    if (this.opts.caFile) {
      let extra: string;
      try {
        extra = await readFile(this.opts.caFile, 'utf8');
      } catch (e) {
        throw new AirlockError('CONFIG_INVALID', `CA file ${this.opts.caFile}: ${describeError(e)}`);
      }
      tls = { ca: [...rootCertificates, extra] };
    }
    this.dispatcher = new EnvHttpProxyAgent({
      connect: tls,
      requestTls: tls,
      proxyTls: tls,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    } as ConstructorParameters<typeof EnvHttpProxyAgent>[0]).compose(interceptors.redirect({ maxRedirections: 10 }));
    return this.dispatcher;
  }

  private async withRetries<T>(label: string, url: string, attempt: () => Promise<T>): Promise<T> {
    let last = '';
    for (let i = 0; i <= this.retries; i++) {
      try {
        return await attempt();
      } catch (e) {
        if (e instanceof AirlockError) throw e;
        const permanent = cannotSucceed(e);
        if (permanent) throw new AirlockError('HTTP_ERROR', `${label}: ${redactUrl(url)}: ${permanent}`);
        last = e instanceof Transient ? e.message : describeError(e);
        if (i === this.retries) break;
        const wait =
          e instanceof Transient && e.retryAfterMs !== undefined ? e.retryAfterMs : this.backoffMs * 2 ** i * (0.5 + Math.random());
        await sleep(wait);
      }
    }
    throw new AirlockError('NETWORK_ERROR', `${label}: ${redactUrl(url)} failed after ${this.retries + 1} attempts: ${last}`);
  }

  private async send(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Dispatcher.ResponseData> {
    return request(url, {
      dispatcher: await this.agent(),
      headers: { ...this.headers, ...headers },
      ...(signal ? { signal } : {}),
    });
  }

  private async failOn(res: Dispatcher.ResponseData, label: string, url: string, ok: (s: number) => boolean): Promise<void> {
    if (ok(res.statusCode)) return;
    await res.body.dump();
    if (res.statusCode === 404 || res.statusCode === 410) {
      throw new AirlockError('NOT_FOUND', `${label}: ${redactUrl(url)} returned ${res.statusCode} Not Found`);
    }
    if (RETRY_STATUS.has(res.statusCode)) throw new Transient(`HTTP ${res.statusCode}`, retryAfter(res.headers['retry-after']));
    throw new AirlockError('HTTP_ERROR', `${label}: ${redactUrl(url)} returned HTTP ${res.statusCode}`);
  }

  async getText(
    url: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    return this.withRetries(redactUrl(url), url, async () => {
      const res = await this.send(url, headers);
      await this.failOn(res, redactUrl(url), url, (s) => s >= 200 && s < 300);
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
      return { status: res.statusCode, headers: flat, body: await res.body.text() };
    });
  }

  /**
   * One request whose answer the caller interprets (a registry's 401 challenge, 404s);
   * network errors, 429 and 5xx are retried. Bodies over `maxBytes` are refused.
   */
  async fetchSmall(
    url: string,
    opts: { method?: 'GET' | 'HEAD'; headers?: Record<string, string>; maxBytes: number; label?: string },
  ): Promise<SmallResponse> {
    const label = opts.label ?? redactUrl(url);
    return this.withRetries(label, url, async () => {
      const res = await request(url, {
        dispatcher: await this.agent(),
        method: opts.method ?? 'GET',
        headers: { ...this.headers, ...opts.headers },
      });
      if (RETRY_STATUS.has(res.statusCode)) {
        await res.body.dump();
        throw new Transient(`HTTP ${res.statusCode}`, retryAfter(res.headers['retry-after']));
      }
      const flat: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
      const parts: Buffer[] = [];
      let n = 0;
      for await (const chunk of res.body) {
        n += (chunk as Buffer).length;
        if (n > opts.maxBytes) {
          res.body.destroy();
          throw new AirlockError('HTTP_ERROR', `${label}: ${redactUrl(url)} sent more than ${opts.maxBytes} bytes`);
        }
        parts.push(chunk as Buffer);
      }
      return { status: res.statusCode, headers: flat, body: Buffer.concat(parts) };
    });
  }

  /**
   * Bytes `start..end` (inclusive) of a remote file, or undefined when the server does not
   * do ranges (it answered 200 with the whole file, which is not read).
   */
  async getRange(url: string, start: number, end: number, label = redactUrl(url)): Promise<Buffer | undefined> {
    return this.withRetries(label, url, async () => {
      const res = await this.send(url, { range: `bytes=${start}-${end}` });
      if (res.statusCode === 200) {
        // dump() reads at most a little and then closes quietly; the whole file is not wanted.
        await res.body.dump();
        return undefined;
      }
      await this.failOn(res, label, url, (s) => s === 206);
      const body = Buffer.from(await res.body.arrayBuffer());
      if (body.length !== end - start + 1) throw new Transient(`asked for ${end - start + 1} bytes, got ${body.length}`);
      return body;
    });
  }

  /**
   * The last `length` bytes of a remote file and its total size, by a suffix range (RFC 9110
   * §14.1.1), for when the size is not known beforehand; undefined when the server does not do
   * ranges.
   */
  async getTail(url: string, length: number, label = redactUrl(url)): Promise<{ data: Buffer; total: number } | undefined> {
    return this.withRetries(label, url, async () => {
      const res = await this.send(url, { range: `bytes=-${length}` });
      if (res.statusCode === 200) {
        await res.body.dump();
        return undefined;
      }
      await this.failOn(res, label, url, (s) => s === 206);
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
      const data = Buffer.from(await res.body.arrayBuffer());
      if (!range)
        throw new AirlockError('HTTP_ERROR', `${label}: ${redactUrl(url)} answered a suffix range without a usable Content-Range`);
      const [start, end, total] = [Number(range[1]), Number(range[2]), Number(range[3])];
      if (end !== total - 1 || data.length !== end - start + 1)
        throw new Transient(`asked for the last ${length} bytes, got ${start}-${end}/${total}`);
      return { data, total };
    });
  }

  /**
   * A remote file's size without its body: HEAD's Content-Length, else the total of a
   * one-byte Range's Content-Range (servers that refuse HEAD, as GET-signed URLs do), else
   * the Content-Length of the whole answer when Range is ignored (its body is not read);
   * undefined when the server tells none of these. Encoded answers say nothing of the size.
   */
  async remoteSize(url: string, opts: { headers?: Record<string, string>; label?: string } = {}): Promise<number | undefined> {
    const label = opts.label ?? redactUrl(url);
    const headers = opts.headers ?? {};
    const lengthOf = (res: Dispatcher.ResponseData): number | undefined => {
      const encoding = String(res.headers['content-encoding'] ?? 'identity');
      const n = Number(res.headers['content-length'] ?? NaN);
      return encoding === 'identity' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
    };
    return this.withRetries(label, url, async () => {
      const head = await request(url, { dispatcher: await this.agent(), method: 'HEAD', headers: { ...this.headers, ...headers } });
      await head.body.dump();
      if (RETRY_STATUS.has(head.statusCode)) throw new Transient(`HTTP ${head.statusCode}`, retryAfter(head.headers['retry-after']));
      const known = head.statusCode >= 200 && head.statusCode < 300 ? lengthOf(head) : undefined;
      if (known !== undefined) return known;
      const res = await this.send(url, { ...headers, range: 'bytes=0-0' });
      const range = String(res.headers['content-range'] ?? '');
      if (res.statusCode === 416) {
        // An empty file has no byte 0.
        await res.body.dump();
        const total = /^bytes \*\/(\d+)$/.exec(range);
        return total ? Number(total[1]) : undefined;
      }
      await this.failOn(res, label, url, (s) => s === 200 || s === 206);
      const size = res.statusCode === 206 ? /^bytes \d+-\d+\/(\d+)$/.exec(range)?.[1] : lengthOf(res);
      await res.body.dump();
      return size === undefined ? undefined : Number(size);
    });
  }

  async download(req: DownloadRequest): Promise<DownloadResult> {
    const label = req.label ?? redactUrl(req.url);
    await this.withRetries(label, req.url, () => this.attempt(req, label));
    const result = await hashFile(req.dest);
    const fail = (code: 'DIGEST_MISMATCH' | 'SIZE_MISMATCH', msg: string): never => {
      throw new AirlockError(code, `${label}: ${msg}`);
    };
    try {
      if (req.expectedSize !== undefined && result.size !== req.expectedSize) {
        fail('SIZE_MISMATCH', `expected ${req.expectedSize} bytes, got ${result.size}`);
      }
      if (req.expectedDigest && result.digest !== req.expectedDigest) {
        fail('DIGEST_MISMATCH', `expected ${req.expectedDigest}, got ${result.digest}`);
      }
    } catch (e) {
      await rm(req.dest, { force: true });
      throw e;
    }
    return result;
  }

  /** One try: resume from what `dest` already holds, append the rest. */
  private async attempt(req: DownloadRequest, label: string): Promise<void> {
    const have = await stat(req.dest).then(
      (s) => s.size,
      () => 0,
    );
    const res = await this.send(req.url, { ...req.headers, ...(have > 0 ? { range: `bytes=${have}-` } : {}) }, req.signal);
    if (res.statusCode === 416 && have > 0) {
      const total = /^bytes \*\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
      await res.body.dump();
      if (total && Number(total[1]) === have) return;
      await rm(req.dest, { force: true });
      throw new Transient('range not satisfiable; restarting');
    }
    await this.failOn(res, label, req.url, (s) => s === 200 || s === 206);
    let start = 0;
    if (res.statusCode === 206) {
      const m = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== have) {
        await res.body.dump();
        await rm(req.dest, { force: true });
        throw new Transient(`unexpected Content-Range ${String(res.headers['content-range'])}; restarting`);
      }
      start = have;
    }
    const length = Number(res.headers['content-length']);
    const total = Number.isFinite(length) ? start + length : undefined;
    if (total !== undefined && req.expectedSize !== undefined && total !== req.expectedSize) {
      await res.body.dump();
      throw new AirlockError('SIZE_MISMATCH', `${label}: expected ${req.expectedSize} bytes, the server offers ${total}`);
    }
    let done = start;
    const counter = new HashingStream((n) => {
      done = start + n;
      req.onProgress?.(done, total);
    });
    const out = createWriteStream(req.dest, { flags: start > 0 ? 'a' : 'w', highWaterMark: 1 << 20 });
    try {
      await pipeline(res.body, counter, out);
    } catch (e) {
      throw new Transient(`connection lost after ${done} bytes (${describeError(e)})`);
    }
    const fh = await open(req.dest, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /**
   * Runs `fn` with the process's global `fetch` going through this client's proxy and CA
   * settings, for libraries that fetch by themselves (the conda solver's wasm).
   */
  async withGlobalFetch<T>(fn: () => Promise<T>): Promise<T> {
    const before = getGlobalDispatcher();
    setGlobalDispatcher(await this.agent());
    try {
      return await fn();
    } finally {
      setGlobalDispatcher(before);
    }
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }
}

/**
 * Runs `work` over `items` with at most `limit` in flight. After a failure no new item
 * starts; the call waits for those running (they may hold files or the store) and then
 * throws the first error.
 */
export async function inParallel<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const lane = async () => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        await work(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure) throw failure.error;
}
