import type { Command } from 'commander';
import { AirlockError } from '../../core/errors.js';
import { removeDeadTemps } from '../../core/fsutil.js';
import { Store } from '../../core/store.js';
import { ECOSYSTEMS } from '../../ecosystems/registry.js';
import { globals } from '../common.js';
import { formatBytes } from '../format.js';
import type { LogLevel } from '../../server/app.js';

/** Here rather than in the server module, which is loaded only when serve runs. */
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function parseListen(v: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new AirlockError('USAGE', `--listen: "${v}" is not HOST:PORT (e.g. 127.0.0.1:8080, [::1]:8080, 0.0.0.0:8080)`);
  return { host: (m[1] ?? m[2])!, port };
}

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      `serve the store to clients (${ECOSYSTEMS.map((e) => e.prefix ?? `/${e.id}/`).join(', ')}, /api/artifacts, /healthz); opens no outbound connection`,
    )
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8080')
    .option(
      '--base-url <url>',
      "the URL clients reach this server at (default: http://<listen>, or the request's Host when listening on 0.0.0.0 or ::)",
    )
    .option('--auth <mode>', 'none | required (reads need a reader token; writes always need publisher)', 'none')
    .option('--log-level <level>', `request and error logs, JSON lines on stderr: ${LOG_LEVELS.join(' | ')}`, 'info')
    .action(async (o: { listen: string; baseUrl?: string; auth: string; logLevel: string }, cmd: Command) => {
      if (o.auth !== 'none' && o.auth !== 'required') throw new AirlockError('USAGE', `--auth: "${o.auth}" is not none or required`);
      const level = LOG_LEVELS.find((l) => l === o.logLevel);
      if (!level) throw new AirlockError('USAGE', `--log-level: "${o.logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
      const { host, port } = parseListen(o.listen);
      if (o.baseUrl !== undefined && !/^https?:\/\/[^/]/.test(o.baseUrl)) {
        throw new AirlockError('USAGE', `--base-url: "${o.baseUrl}" is not an http:// or https:// URL (e.g. https://mirror.lab:8443)`);
      }
      const store = await Store.open(globals(cmd).home);
      const swept = await removeDeadTemps(await store.blobs.tempDir());
      if (swept.files)
        process.stderr.write(`airlock: removed ${swept.files} temp file(s), ${formatBytes(swept.bytes)}, left by stopped processes\n`);
      // A wildcard address is no place to send a client to (a registry's token realm, an npm
      // tarball): without --base-url each answer then names the Host its request used.
      const wildcard = host === '0.0.0.0' || host === '::';
      const baseUrl = (o.baseUrl ?? (wildcard ? '' : `http://${host.includes(':') ? `[${host}]` : host}:${port}`)).replace(/\/+$/, '');
      // Loaded here so that commands which never serve don't pay for the web framework.
      const { buildServer } = await import('../../server/app.js');
      const app = await buildServer({ store, baseUrl, auth: o.auth, logger: { level, stream: process.stderr } });
      const address = await app.listen({ host, port }).catch(async (e: NodeJS.ErrnoException) => {
        await store.close();
        throw new AirlockError('IO_ERROR', `cannot listen on ${o.listen}: ${e.code ?? e.message}`);
      });
      process.stderr.write(
        `airlock: serving ${store.home} at ${address} for ${baseUrl || 'the Host each request names'} (auth: ${o.auth})\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          void app.close().then(() => resolve());
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await store.close();
    });
}
