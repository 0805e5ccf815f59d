import { userInfo, hostname } from 'node:os';
import type { Command } from 'commander';
import { parseSize } from '../../bundle/size.js';
import { AirlockError } from '../../core/errors.js';
import { createBundle, readBundleHeader, summarizeVolumes, verifyBundles } from '../../services/bundle.js';
import { importBundles } from '../../services/import.js';
import { globals, printJson, printTable, reporterFor, withStore } from '../common.js';
import { formatBytes } from '../format.js';
import { loadLockOrManifest } from '../inputs.js';

function wholeNumber(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new AirlockError('USAGE', `${what}: "${v}" is not a whole number`);
    return n;
  };
}

function defaultCreator(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return hostname();
  }
}

interface CreateOptions {
  file?: string;
  lock?: string;
  out: string;
  split?: string;
  volume?: number;
  sequence?: number;
  creator?: string;
  sign?: string;
  caFile?: string;
}

export function register(program: Command): void {
  const bundle = program.command('bundle').description('write, inspect and verify bundles');

  bundle
    .command('create')
    .description('write a bundle (fetching anything not yet in the store)')
    .option('-f, --file <airlock.yaml>', 'resolve this manifest first')
    .option('--lock <airlock.lock>', 'bundle exactly this lockfile (default: airlock.lock if present)')
    .requiredOption('-o, --out <OUT.airlock>', 'output path; volume sets are named OUT.vol-NNN-of-MMM.airlock')
    .option('--split <size>', 'largest volume, e.g. 700M, 4.7G, 25GiB (K/M/G/T are decimal, Ki/Mi/Gi/Ti binary)')
    .option('--volume <n>', 'write only volume N of the set again', wholeNumber('--volume'))
    .option('--sequence <n>', 'bundle sequence number, for the receiver\'s replay protection (default: the next for this creator; the same lock keeps its number)', wholeNumber('--sequence'))
    .option('--creator <who>', 'who made the bundle (default: user@host)')
    .option('--ca-file <pem>', 'extra CA certificates for HTTPS upstreams')
    .action(async (o: CreateOptions, cmd: Command) => {
      if (o.volume !== undefined && o.split === undefined) throw new AirlockError('USAGE', '--volume needs --split (it picks one volume of a set)');
      const split = o.split === undefined ? undefined : parseSize(o.split, '--split');
      await withStore(cmd, async (store) => {
        const reporter = reporterFor(cmd);
        const lock = await loadLockOrManifest(store, { file: o.file, lock: o.lock, caFile: o.caFile, reporter, fetch: true });
        const res = await store.withWriteLock('bundle create', () =>
          createBundle(store, lock, {
            out: o.out,
            ...(split !== undefined ? { split } : {}),
            ...(o.volume !== undefined ? { onlyVolume: o.volume } : {}),
            ...(o.sequence !== undefined ? { sequence: o.sequence } : {}),
            creator: o.creator ?? defaultCreator(),
            reporter,
          }),
        );
        if (globals(cmd).json) {
          printJson({ bundleId: res.bundleId, name: res.manifest.name, volumes: res.manifest.volumes, files: res.files });
          return;
        }
        for (const f of res.files) process.stdout.write(`${f}\n`);
        reporter.info(
          `bundle ${res.manifest.name} ${res.bundleId}: ${res.manifest.artifacts.length} artifact(s) in ${res.manifest.volumes} volume(s)`,
        );
      });
    });

  bundle
    .command('inspect')
    .description('show a bundle\'s manifest: artifacts, sizes, totals, volumes')
    .argument('<bundle>', 'a bundle file or any one of its volumes')
    .action(async (file: string, _o, cmd: Command) => {
      const info = await readBundleHeader(file);
      const m = info.manifest;
      const volumes = summarizeVolumes(m);
      if (globals(cmd).json) {
        printJson({ bundleId: info.bundleId, volume: info.volume, volumeSummary: volumes, manifest: m });
        return;
      }
      const total = m.blobs.reduce((n, b) => n + b.size, 0);
      process.stdout.write(
        `bundle    ${m.name}\nid        ${info.bundleId}\nsequence  ${m.sequence}\ncreator   ${m.creator}\n` +
          `platforms ${m.target.platforms.join(', ')}\nlock      ${m.lockDigest}\n` +
          `contents  ${m.artifacts.length} artifact(s), ${m.blobs.length} blob(s), ${formatBytes(total)} in ${m.volumes} volume(s)\n\n`,
      );
      printTable(
        ['ECOSYSTEM', 'NAME', 'VERSION', 'SIZE', 'DIGEST'],
        m.artifacts.map((a) => [a.ecosystem, a.name, a.version || '-', formatBytes(a.size), a.digest.slice(0, 19)]),
      );
      process.stdout.write('\n');
      printTable(
        ['VOLUME', 'BLOBS', 'SIZE'],
        volumes.map((v) => [`${v.volume}/${m.volumes}`, String(v.blobs), formatBytes(v.bytes)]),
      );
    });

  bundle
    .command('verify')
    .description('check structure and every digest of bundle volumes, without any store')
    .argument('<bundle...>', 'bundle files or volumes')
    .action(async (files: string[], _o, cmd: Command) => {
      const res = await verifyBundles(files, reporterFor(cmd));
      if (globals(cmd).json) {
        printJson(res);
        return;
      }
      for (const b of res) {
        const rest = b.missing.length ? `; volume(s) ${b.missing.join(', ')} not given` : '';
        process.stdout.write(`${b.name} ${b.bundleId}: ${b.verified.length}/${b.volumes} volume(s) verified${rest}\n`);
      }
    });

  program
    .command('import')
    .description('verify bundle volumes and import them into the store (atomically, once all volumes are in)')
    .argument('<bundle...>', 'bundle files or volumes, in any order')
    .option('--override-custody <reason>', 'import even though custody fails the trust policy (local admin only; audited with the reason)')
    .action(async (files: string[], o: { overrideCustody?: string }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const res = await importBundles(store, files, reporterFor(cmd), o.overrideCustody ? { override: o.overrideCustody } : {});
        if (globals(cmd).json) {
          printJson(res);
          return;
        }
        for (const r of res) {
          const what =
            r.outcome === 'imported'
              ? `imported: ${r.added} artifact(s) added, ${r.existing} already present`
              : r.outcome === 'staged'
                ? `staged; waiting for volume(s) ${r.missing.join(', ')} of ${r.volumes}`
                : 'already imported; nothing to do';
          process.stdout.write(`${r.file}: bundle ${r.name} volume ${r.volume}/${r.volumes}: ${what}\n`);
        }
      });
    });
}
