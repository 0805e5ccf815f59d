/**
 * Named crash points for the crash-safety tests: when AIRLOCK_CRASH_AT names this point, the
 * process kills itself with SIGKILL right here, exactly as a power cut or `kill -9` would.
 * Production runs never set the variable, and the check costs one string compare.
 */
export function crashPoint(name: string): void {
  if (process.env.AIRLOCK_CRASH_AT === name) process.kill(process.pid, 'SIGKILL');
}
