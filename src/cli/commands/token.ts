import type { Command } from 'commander';
import { createToken, listTokens, parseRole, revokeToken } from '../../services/tokens.js';
import { globals, printJson, printTable, withStore } from '../common.js';
import { escapeText } from '../render.js';

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
        if (globals(cmd).json) printJson({ name: o.name, role, token: t });
        else process.stdout.write(`${t}\n`);
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
          ['NAME', 'ROLE', 'CREATED', 'LAST USED', 'REVOKED', 'MINTED BY'],
          rows.map((r) => [r.name, r.role, r.createdAt, r.lastUsedAt ?? '-', r.revokedAt ?? '-', r.parent ?? '-']),
        );
      });
    });

  token
    .command('revoke')
    .description('revoke a token by name, and by default every token it minted (npm login): those stop working too')
    .argument('<name>')
    .option('--with-children', 'also revoke the tokens it minted (the default; again on a revoked token, revokes the children it left)')
    .option('--no-with-children', 'revoke only this token; the tokens it minted stay valid')
    .action(async (name: string, o: { withChildren?: boolean }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const r = await revokeToken(store, name, { withChildren: o.withChildren !== false });
        if (globals(cmd).json) {
          printJson({ name, revoked: true, alreadyRevoked: r.alreadyRevoked, children: r.children });
          return;
        }
        const minted = r.children.length ? `; and ${r.children.length} it minted: ${r.children.join(', ')}` : '';
        process.stdout.write(`${escapeText(`token "${name}" ${r.alreadyRevoked ? 'was already revoked' : 'revoked'}${minted}`)}\n`);
      });
    });
}
