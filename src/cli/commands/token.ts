import type { Command } from 'commander';
import { createToken, listTokens, parseRole, revokeToken } from '../../services/tokens.js';
import { globals, printJson, printTable, withStore } from '../common.js';

export function register(program: Command): void {
  const token = program.command('token').description('tokens for serve --auth required (reader, publisher, admin)');

  token
    .command('create')
    .description('create a token and print it once, alone on stdout (only its hash is stored)')
    .requiredOption('--name <name>', 'a name to revoke it by later')
    .requiredOption('--role <role>', 'reader | publisher | admin')
    .action(async (o: { name: string; role: string }, cmd: Command) => {
      const role = parseRole(o.role);
      await withStore(cmd, async (store) => {
        const t = await createToken(store, o.name, role);
        process.stdout.write(`${t}\n`);
        process.stderr.write(`token "${o.name}" (${role}) created; it is shown only this once\n`);
      });
    });

  token
    .command('list')
    .description('list tokens (never their secrets)')
    .action(async (_o, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const rows = await listTokens(store);
        if (globals(cmd).json) {
          printJson(rows.map(({ id: _id, ...r }) => r));
          return;
        }
        printTable(
          ['NAME', 'ROLE', 'CREATED', 'LAST USED', 'REVOKED'],
          rows.map((r) => [r.name, r.role, r.createdAt, r.lastUsedAt ?? '-', r.revokedAt ?? '-']),
        );
      });
    });

  token
    .command('revoke')
    .description('revoke a token by name')
    .argument('<name>')
    .action(async (name: string, _o, cmd: Command) => {
      await withStore(cmd, async (store) => {
        await revokeToken(store, name);
        process.stdout.write(`token "${name}" revoked\n`);
      });
    });
}
