import type { Command } from 'commander';
import { AirlockError } from '../../core/errors.js';
import { ECOSYSTEMS } from '../../ecosystems/registry.js';

const CLIENTS = ECOSYSTEMS.flatMap((e) => e.clients);

export function register(program: Command): void {
  program
    .command('client-config')
    .description('print the lines a client needs to use an airlock server')
    .argument('<client>', CLIENTS.join(' | '))
    .requiredOption('--url <url>', 'the server\'s base URL, e.g. http://mirror:8080')
    .action((client: string, o: { url: string }) => {
      const e = ECOSYSTEMS.find((x) => x.clients.includes(client));
      if (!e) throw new AirlockError('USAGE', `unknown client "${client}" (known: ${CLIENTS.join(', ')})`);
      try {
        new URL(o.url);
      } catch {
        throw new AirlockError('USAGE', `--url: "${o.url}" is not a URL`);
      }
      process.stdout.write(e.clientConfig(o.url, client));
    });
}
