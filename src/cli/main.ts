import { Command, CommanderError } from 'commander';
import { describeError, isAirlockError } from '../core/errors.js';
import { COMMANDS } from './commands/index.js';
import { VERSION } from './version.js';

function buildProgram(): Command {
  const program = new Command('airlock')
    .description('Carry software across an air gap: lock, fetch, bundle, verify, import and serve it offline.')
    .version(VERSION, '-V, --version')
    .option('--home <dir>', 'store directory (default: $AIRLOCK_HOME or ~/.local/share/airlock)')
    .option('--json', 'print machine-readable JSON on stdout')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of COMMANDS) register(program);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Exit codes: 0 success, 1 user error or refusal, 2 usage error. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version "errors" are successful exits; everything else commander throws is usage.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (isAirlockError(e)) {
      process.stderr.write(`airlock: error: ${e.message}\n`);
      if (e.hint) process.stderr.write(`hint: ${e.hint}\n`);
      return e.exitCode;
    }
    process.stderr.write(`airlock: internal error: ${describeError(e)}\n`);
    if (process.env.AIRLOCK_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}
