import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { AirlockError } from '../../core/errors.js';
import { ensureDir } from '../../core/fsutil.js';
import { resolveHome } from '../../core/paths.js';
import { generateKey, keyIdOf, readPublicKey } from '../../core/keys.js';
import { globals, printJson, printTable } from '../common.js';
import { passphrase } from '../passphrase.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function keysDir(cmd: Command, dir?: string): string {
  return dir ?? join(resolveHome(globals(cmd).home), 'keys');
}

export function register(program: Command): void {
  const key = program.command('key').description('signing keys for bundle custody (Ed25519)');
  key
    .command('generate')
    .description('make a key pair: DIR/NAME.key (PKCS#8 PEM, mode 0600) and DIR/NAME.pub')
    .requiredOption('--name <name>', 'letters, digits, . _ -')
    .option('--out <dir>', 'where to write it (default: <home>/keys)')
    .option('--encrypt', 'encrypt the private key with a passphrase (AIRLOCK_KEY_PASSPHRASE, or asked); implied when that variable is set')
    .action(async (o: { name: string; out?: string; encrypt?: boolean }, cmd: Command) => {
      if (!NAME.test(o.name)) throw new AirlockError('USAGE', `--name: "${o.name}" (letters, digits, . _ -)`);
      const dir = keysDir(cmd, o.out);
      await ensureDir(dir, `--out ${dir}`);
      const secret = o.encrypt || process.env.AIRLOCK_KEY_PASSPHRASE ? await passphrase(`passphrase for ${o.name}.key: `, true) : undefined;
      const k = generateKey(secret);
      const priv = join(dir, `${o.name}.key`);
      try {
        await writeFile(priv, k.privatePem, { mode: 0o600, flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST')
          throw new AirlockError('CONFLICT', `${priv} exists; a key is never overwritten`);
        throw e;
      }
      await writeFile(join(dir, `${o.name}.pub`), k.publicPem, { mode: 0o644 });
      if (globals(cmd).json)
        printJson({ name: o.name, keyId: k.keyId, privateKey: priv, publicKey: join(dir, `${o.name}.pub`), encrypted: Boolean(secret) });
      else process.stdout.write(`${o.name} ${k.keyId}\n  ${priv}${secret ? ' (encrypted)' : ''}\n  ${join(dir, `${o.name}.pub`)}\n`);
    });
  key
    .command('list')
    .description('the keys in a directory, with their ids')
    .option('--dir <dir>', 'default: <home>/keys')
    .action(async (o: { dir?: string }, cmd: Command) => {
      const dir = keysDir(cmd, o.dir);
      const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.pub')).sort();
      const rows = [];
      for (const f of names) {
        const name = f.slice(0, -4);
        const id = keyIdOf(readPublicKey(await readFile(join(dir, f), 'utf8'), join(dir, f)));
        const priv = await readFile(join(dir, `${name}.key`), 'utf8').catch(() => undefined);
        rows.push({ name, keyId: id, private: priv === undefined ? 'no' : priv.includes('ENCRYPTED') ? 'encrypted' : 'yes' });
      }
      if (globals(cmd).json) printJson(rows);
      else
        printTable(
          ['NAME', 'KEY ID', 'PRIVATE'],
          rows.map((r) => [r.name, r.keyId, r.private]),
        );
    });
}
