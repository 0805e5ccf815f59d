import { createInterface } from 'node:readline';
import { AirlockError } from '../core/errors.js';

/** A passphrase from AIRLOCK_KEY_PASSPHRASE, or asked on the terminal without echo. */
export async function passphrase(prompt: string, confirm = false): Promise<string> {
  const env = process.env.AIRLOCK_KEY_PASSPHRASE;
  if (env) return env;
  if (!process.stdin.isTTY) throw new AirlockError('USAGE', 'no terminal to ask for the passphrase: set AIRLOCK_KEY_PASSPHRASE');
  const ask = (q: string) =>
    new Promise<string>((resolve) => {
      const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
      const out = rl as unknown as { _writeToOutput: (s: string) => void };
      out._writeToOutput = (s: string) => {
        if (s.startsWith(q)) process.stderr.write(q);
      };
      rl.question(q, (a) => {
        rl.close();
        process.stderr.write('\n');
        resolve(a);
      });
    });
  const first = await ask(prompt);
  if (confirm && (await ask('again: ')) !== first) throw new AirlockError('USAGE', 'the passphrases differ');
  if (!first) throw new AirlockError('USAGE', 'an empty passphrase');
  return first;
}
