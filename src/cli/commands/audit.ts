import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { exportAudit, verifyExport } from '../../audit/export.js';
import { verifyStoreAudit } from '../../audit/log.js';
import { AirlockError, describeError } from '../../core/errors.js';
import { writeFileAtomic } from '../../core/fsutil.js';
import { loadPrivateKey } from '../../core/keys.js';
import { globals, printJson, withStore } from '../common.js';
import { escapeText, writeOut } from '../render.js';
import { passphrase } from '../passphrase.js';

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new AirlockError('CONFIG_INVALID', `${file}: ${describeError(e)}`);
  }
}

const AUDIT_WIDTHS = [5, 24, 24, 16, 32];

function auditLine(cells: string[]): string {
  return cells
    .map((c, i) => c.padEnd(AUDIT_WIDTHS[i] ?? 0))
    .join('  ')
    .trimEnd();
}

export function register(program: Command): void {
  const auditCmd = program.command('audit').description("the store's tamper-evident audit log");
  auditCmd
    .command('log')
    .description('every security-relevant event: imports, overrides, trust changes, tokens, uploads, pushes, deletes, verify runs')
    .option('--since <time>', 'only entries at or after this time (ISO 8601)')
    .action(async (o: { since?: string }, cmd: Command) => {
      if (o.since !== undefined && Number.isNaN(Date.parse(o.since)))
        throw new AirlockError('USAGE', `--since: "${o.since}" is not a time`);
      const since = o.since === undefined ? undefined : new Date(o.since).toISOString();
      await withStore(cmd, async (store) => {
        const rows = store.meta.iterateAudit(since ? { since } : {});
        if (globals(cmd).json) {
          let first = true;
          for await (const r of rows) {
            await writeOut(`${first ? '[\n' : ',\n'}  ${JSON.stringify(r)}`);
            first = false;
          }
          await writeOut(first ? '[]\n' : '\n]\n');
          return;
        }
        // A line per entry as it is read: columns are padded to a fixed width, never to the
        // widest cell, which would mean holding the whole log first.
        await writeOut(`${auditLine(['#', 'AT', 'ACTOR', 'ACTION', 'SUBJECT', 'OUTCOME'])}\n`);
        for await (const r of rows)
          await writeOut(`${auditLine([String(r.id), r.at, r.actor, r.action, r.subject, r.outcome].map(escapeText))}\n`);
      });
    });
  auditCmd
    .command('verify')
    .description('check the chain: an edited, deleted, reordered or inserted entry is named')
    .option('--file <export>', "check a signed export instead of this store's log")
    .option('--pub <key.pub>', 'with --file: the key the export must be signed with')
    .action(async (o: { file?: string; pub?: string }, cmd: Command) => {
      const exported = o.file ? verifyExport(await readText(o.file), o.file, o.pub ? await readText(o.pub) : undefined) : undefined;
      const res = exported ?? (await withStore(cmd, (store) => verifyStoreAudit(store)));
      if (globals(cmd).json) printJson(res);
      if (!res.ok) throw new AirlockError('AUDIT_BROKEN', `audit log${o.file ? ` ${o.file}` : ''}: ${res.why}`);
      if (!globals(cmd).json) {
        const signer = exported ? `; signed by ${exported.keyId.slice(0, 16)}… at ${exported.exportedAt}` : '';
        process.stdout.write(`audit log intact: ${res.count} entr${res.count === 1 ? 'y' : 'ies'}${signer}\n`);
      }
    });
  auditCmd
    .command('export')
    .description('write the whole log as a signed file an officer can check elsewhere (airlock audit verify --file)')
    .requiredOption('-o, --out <file>', 'where to write it')
    .requiredOption('--key <file>', 'the private key that signs the export')
    .action(async (o: { out: string; key: string }, cmd: Command) => {
      const key = await loadPrivateKey(o.key, () => passphrase(`passphrase for ${o.key}: `));
      await withStore(cmd, async (store) => {
        const check = await verifyStoreAudit(store);
        if (!check.ok) throw new AirlockError('AUDIT_BROKEN', `audit log: ${check.why}; not exporting a broken chain`);
        const env = exportAudit(await store.meta.listAudit(), key);
        await writeFileAtomic(o.out, `${JSON.stringify(env)}\n`);
        if (globals(cmd).json) printJson({ file: o.out, entries: check.count });
        else process.stdout.write(`${o.out}: ${check.count} entries, signed\n`);
      });
    });
}
