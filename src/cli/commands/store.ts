import { join } from 'node:path';
import type { Command } from 'commander';
import { artifactSummary } from '../../core/artifact.js';
import { databaseFailure } from '../../core/db.js';
import { AirlockError } from '../../core/errors.js';
import { verifyStore } from '../../services/verify-store.js';
import { audit, localActor } from '../../audit/log.js';
import { ecosystemId, globals, printJson, printTable, reporterFor, withStore } from '../common.js';
import { formatBytes } from '../format.js';

/** Commands about the store itself: init, list, verify, history. */
export function register(program: Command): void {
  program
    .command('init')
    .description('create the store (idempotent; every other command also creates it on first use)')
    .action(async (_o, cmd: Command) => {
      await withStore(cmd, async (store) => {
        if (globals(cmd).json) printJson({ home: store.home, id: store.id });
        else process.stdout.write(`store ready at ${store.home} (id ${store.id})\n`);
      });
    });

  program
    .command('list')
    .description('list the artifacts the store holds')
    .option('--ecosystem <id>', 'only this ecosystem (files, pypi, npm, oci, hf, conda)', ecosystemId)
    .action(async (o: { ecosystem?: string }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const rows = await store.meta.listArtifacts(o.ecosystem ? { ecosystem: o.ecosystem } : {});
        if (globals(cmd).json) {
          printJson(rows.map(artifactSummary));
          return;
        }
        const bundles = new Map((await store.meta.listBundles()).map((b) => [b.id, b.name]));
        printTable(
          ['ECOSYSTEM', 'NAME', 'VERSION', 'SIZE', 'DIGEST', 'BUNDLE'],
          rows.map((a) => [
            a.ecosystem,
            a.name,
            a.version || '-',
            formatBytes(a.size),
            a.digest.slice(0, 19),
            a.bundleId ? `${bundles.get(a.bundleId) ?? '?'} (${a.bundleId.slice(7, 19)})` : '-',
          ]),
        );
      });
    });

  program
    .command('verify')
    .description('re-hash every blob and check every database row points at a present blob')
    .action(async (_o, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const r = await verifyStore(store, reporterFor(cmd));
        // The result first: a store too full to take the audit entry still deserves its answer.
        if (globals(cmd).json) printJson(r);
        else {
          process.stdout.write(
            `${r.blobs} blob(s), ${formatBytes(r.bytes)}, ${r.references} reference(s) checked: ${r.problems.length} problem(s)\n`,
          );
        }
        try {
          await audit(store, {
            actor: localActor(),
            action: 'verify',
            subject: store.home,
            outcome: r.problems.length ? 'problems' : 'ok',
            detail: { blobs: r.blobs, problems: r.problems.length },
          });
        } catch (e) {
          throw databaseFailure(join(store.home, 'airlock.db'), 'cannot record the verification in the audit log', e);
        }
        if (r.problems.length > 0) {
          throw new AirlockError('STORE_CORRUPT', `store ${store.home}: ${r.problems.length} problem(s); first: ${r.problems[0]!.detail}`);
        }
      });
    });

  program
    .command('history')
    .description('every bundle import this store has seen: imported, staged, unchanged or refused, and why')
    .action(async (_o, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const rows = await store.meta.listImports();
        if (globals(cmd).json) {
          printJson(rows);
          return;
        }
        printTable(
          ['TIME', 'OUTCOME', 'BUNDLE', 'VOLUMES', 'ADDED', 'SOURCE', 'MESSAGE'],
          rows.map((r) => [
            r.at,
            r.outcome,
            r.bundleId ? r.bundleId.slice(7, 19) : '-',
            r.volumes.join(',') || '-',
            String(r.artifactsAdded),
            r.source,
            r.message || '',
          ]),
        );
      });
    });
}
