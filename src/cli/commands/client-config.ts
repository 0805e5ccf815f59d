import type { Command } from 'commander';
import { AirlockError } from '../../core/errors.js';
import type { Ecosystem } from '../../ecosystems/ecosystem.js';
import { ECOSYSTEMS } from '../../ecosystems/registry.js';
import { globals, printJson } from '../common.js';

const CLIENTS = ECOSYSTEMS.flatMap((e) => e.clients);

/**
 * The server's base URL from what a user typed: without trailing slashes, and without the
 * ecosystem's own path when they pasted a client URL (`…/npm/`, `…/pypi/simple/`), which the
 * printed lines add again. A path in front of that (a reverse proxy's) stays.
 */
export function serverBase(url: string, e: Ecosystem): string {
  const u = URL.canParse(url) ? new URL(url) : undefined;
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
    throw new AirlockError('USAGE', `--url: "${url.slice(0, 200)}" is not an http:// or https:// URL`);
  }
  let path = u.pathname.replace(/\/+$/, '');
  const own = (e.prefix ?? `/${e.id}/`).replace(/\/+$/, '');
  const at = path.endsWith(own) ? path.length - own.length : path.lastIndexOf(`${own}/`);
  if (at >= 0) path = path.slice(0, at);
  return `${u.origin}${path}`;
}

export function register(program: Command): void {
  program
    .command('client-config')
    .description('print the lines a client needs to use an airlock server')
    .argument('<client>', CLIENTS.join(' | '))
    .requiredOption('--url <url>', "the server's base URL, e.g. http://mirror:8080")
    .action((client: string, o: { url: string }, cmd: Command) => {
      const e = ECOSYSTEMS.find((x) => x.clients.includes(client));
      if (!e) throw new AirlockError('USAGE', `unknown client "${client}" (known: ${CLIENTS.join(', ')})`);
      const url = serverBase(o.url, e);
      const config = e.clientConfig(url, client);
      if (globals(cmd).json) printJson({ client, url, config });
      else process.stdout.write(config);
    });
}
