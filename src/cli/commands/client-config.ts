import type { Command } from 'commander';
import { AirlockError } from '../../core/errors.js';
import { ECOSYSTEMS, ecosystemById } from '../../ecosystems/registry.js';

export function register(program: Command): void {
  program
    .command('client-config')
    .description('print the lines a client needs to use an airlock server')
    .argument('<ecosystem>', ECOSYSTEMS.map((e) => e.id).join(' | '))
    .requiredOption('--url <url>', 'the server\'s base URL, e.g. http://mirror:8080')
    .action((id: string, o: { url: string }) => {
      const e = ecosystemById(id);
      if (!e) throw new AirlockError('USAGE', `unknown ecosystem "${id}" (known: ${ECOSYSTEMS.map((x) => x.id).join(', ')})`);
      try {
        new URL(o.url);
      } catch {
        throw new AirlockError('USAGE', `--url: "${o.url}" is not a URL`);
      }
      process.stdout.write(e.clientConfig(o.url));
    });
}
