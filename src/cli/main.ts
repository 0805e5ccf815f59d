import { Command, CommanderError } from 'commander';
import { describeError, isAirlockError } from '../core/errors.js';
import { ioReason, removeInterruptedOutputs } from '../core/fsutil.js';
import { COMMANDS } from './commands/index.js';
import { stopProgressBars } from './progress.js';
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

const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Ctrl-C or a kill: give the terminal back, remove this run's incomplete outputs, exit
 * 128+signal. A command that handles the signal itself (serve drains its connections) has
 * its own listener and takes the first one; a second one then ends the process here.
 */
function onSignal(signal: keyof typeof SIGNAL_EXIT): void {
  if (process.listenerCount(signal) > 1) return;
  stopProgressBars();
  const removed = removeInterruptedOutputs();
  process.stderr.write(`airlock: interrupted (${signal})${removed ? `; removed ${removed} incomplete file(s)` : ''}\n`);
  process.exit(SIGNAL_EXIT[signal]);
}

/** A Node error that names its file but reached here unwrapped: still one line with the path. */
function pathOf(e: unknown): string | undefined {
  const p = (e as NodeJS.ErrnoException | undefined)?.path;
  return typeof p === 'string' ? p : undefined;
}

/**
 * `--json` is known before commander parses (a usage error may come first): a global option,
 * so anywhere before `--`.
 */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** Commander's own error text (and the help it adds) goes nowhere: main prints the error as JSON. */
function silenceErrors(c: Command): void {
  c.configureOutput({ writeErr: () => {}, outputError: () => {} });
  for (const sub of c.commands) silenceErrors(sub);
}

/** With `--json`, a failure is one JSON line on stderr, so stdout holds only results. */
function report(json: boolean, code: string, message: string, hint?: string, label = 'error'): void {
  if (json) process.stderr.write(`${JSON.stringify({ error: { code, message, ...(hint ? { hint } : {}) } })}\n`);
  else {
    process.stderr.write(`airlock: ${label}: ${message}\n`);
    if (hint) process.stderr.write(`hint: ${hint}\n`);
  }
}

/** Exit codes: 0 success, 1 user error or refusal, 2 usage error, 130/143 interrupted. */
export async function main(argv: string[]): Promise<number> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => onSignal(signal));
  const program = buildProgram();
  const json = wantsJson(argv);
  if (json) silenceErrors(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version "errors" are successful exits; everything else commander throws is usage.
      if (e.exitCode === 0) return 0;
      if (json) report(true, 'USAGE', e.message.replace(/^error: /, ''));
      return 2;
    }
    // A failure while bars are drawn must still give the terminal back before it is reported.
    stopProgressBars();
    if (isAirlockError(e)) {
      report(json, e.code, e.message, e.hint);
      return e.exitCode;
    }
    const path = pathOf(e);
    if (path !== undefined) report(json, 'IO_ERROR', `${path}: ${ioReason(e)}`);
    else report(json, 'INTERNAL', describeError(e), undefined, 'internal error');
    if (process.env.AIRLOCK_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}
