import { userInfo, hostname } from 'node:os';
import type { Command } from 'commander';
import { parseSize } from '../../bundle/size.js';
import { AirlockError } from '../../core/errors.js';
import type { Store } from '../../core/store.js';
import { hexOf } from '../../core/digest.js';
import { custodyPath, readCustody } from '../../custody/custody-file.js';
import { examineCustody } from '../../custody/examine.js';
import { installedPolicy } from '../../custody/gate.js';
import { evaluateCustody } from '../../custody/policy.js';
import { signBundle } from '../../custody/sign.js';
import { ROLES, type Role } from '../../custody/statement.js';
import { createBundle, readBundleHeader, summarizeVolumes, verifyBundles } from '../../services/bundle.js';
import { passphrase } from '../passphrase.js';
import { abandonStaging, importBundles } from '../../services/import.js';
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

/**
 * `user@host/<store id, short>`: the closed side numbers bundles per creator, so two stores of
 * one user on one host must not be one creator, or the second's bundle 1 is a replay.
 */
function defaultCreator(store: Store): string {
  const store8 = store.id.slice(0, 8);
  try {
    return `${userInfo().username}@${hostname()}/${store8}`;
  } catch {
    return `${hostname()}/${store8}`;
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
    .requiredOption(
      '-o, --out <OUT.airlock>',
      'output file (missing directories are made); a set of more than one volume is named OUT.vol-NNN-of-MMM.airlock',
    )
    .option('--split <size>', 'largest volume, e.g. 700M, 4.7G, 25GiB (K/M/G/T are decimal, Ki/Mi/Gi/Ti binary)')
    .option('--volume <n>', 'write only volume N of the set again', wholeNumber('--volume'))
    .option(
      '--sequence <n>',
      "bundle sequence number, for the receiver's replay protection (default: the next for this creator; the same lock keeps its number)",
      wholeNumber('--sequence'),
    )
    .option('--creator <who>', 'who made the bundle (default: user@host/<store id>, see airlock init)')
    .option('--ca-file <pem>', 'extra CA certificates for HTTPS upstreams')
    .option('--sign <key>', 'sign the new bundle as origin with this private key')
    .action(async (o: CreateOptions, cmd: Command) => {
      if (o.volume !== undefined && o.split === undefined)
        throw new AirlockError('USAGE', '--volume needs --split (it picks one volume of a set)');
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
            creator: o.creator ?? defaultCreator(store),
            reporter,
          }),
        );
        if (o.sign) {
          const first = res.files[0]!;
          const signed = await signBundle(first, await readBundleHeader(first), {
            keyFile: o.sign,
            role: 'origin',
            data: {},
            passphrase: () => passphrase(`passphrase for ${o.sign}: `),
          });
          reporter.info(`${signed.custodyFile}: origin signature by ${signed.keyId.slice(0, 16)}…`);
        }
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
    .description("show a bundle's manifest: artifacts, sizes, totals, volumes")
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

  bundle
    .command('sign')
    .description('append a signed custody statement (DSSE, in-toto) to B.custody; the bundle itself never changes')
    .argument('<bundle>', 'a bundle file or any one of its volumes')
    .requiredOption('--key <file>', 'a private key from airlock key generate')
    .requiredOption('--role <role>', ROLES.join(' | '))
    .option('--note <text>', 'a note carried in the statement')
    .option('--set <k=v...>', 'role data, e.g. scan=clean media=DVD-0042 seal=77810')
    .action(async (file: string, o: { key: string; role: string; note?: string; set?: string[] }, cmd: Command) => {
      if (!(ROLES as readonly string[]).includes(o.role))
        throw new AirlockError('USAGE', `--role: "${o.role}" (expected ${ROLES.join(', ')})`);
      const data: Record<string, string> = {};
      for (const kv of o.set ?? []) {
        const at = kv.indexOf('=');
        if (at <= 0) throw new AirlockError('USAGE', `--set: "${kv}" is not k=v`);
        data[kv.slice(0, at)] = kv.slice(at + 1);
      }
      const info = await readBundleHeader(file);
      if (o.role === 'verifier') {
        // A verifier vouches for what it checked: airlock's own check of every digest goes in by default.
        const [v] = await verifyBundles([file], reporterFor(cmd));
        data['airlock.bundle-verify'] ??= `volume(s) ${v!.verified.join(', ')} of ${v!.volumes}: every sha256 verified`;
      }
      const res = await signBundle(file, info, {
        keyFile: o.key,
        role: o.role as Role,
        data,
        ...(o.note ? { note: o.note } : {}),
        passphrase: () => passphrase(`passphrase for ${o.key}: `),
      });
      if (globals(cmd).json) printJson({ bundleId: info.bundleId, role: o.role, ...res });
      else process.stdout.write(`${res.custodyFile}: ${o.role} signature by ${res.keyId.slice(0, 16)}… over ${info.bundleId}\n`);
    });

  bundle
    .command('custody')
    .description('who signed a bundle, in which role, when, whether each signature verifies, and whether the trust policy holds')
    .argument('<bundle>', 'a bundle file or any one of its volumes')
    .action(async (file: string, _o, cmd: Command) => {
      const info = await readBundleHeader(file);
      const sigs = examineCustody(await readCustody(custodyPath(file)), hexOf(info.bundleId));
      await withStore(cmd, async (store) => {
        const policy = await installedPolicy(store);
        const nameOf = new Map(Object.entries(policy?.keys ?? {}).map(([n, k]) => [k.keyId, n]));
        const verdict = policy ? evaluateCustody(policy, sigs, new Date()) : undefined;
        if (globals(cmd).json) {
          printJson({
            bundleId: info.bundleId,
            custodyFile: custodyPath(file),
            signatures: sigs.map((s) => ({ ...s, keyName: s.keyId ? nameOf.get(s.keyId) : undefined })),
            policy: verdict ?? null,
          });
          return;
        }
        process.stdout.write(`${info.manifest.name} ${info.bundleId}\ncustody: ${custodyPath(file)}\n\n`);
        printTable(
          ['#', 'ROLE', 'KEY', 'TIME', 'SIGNATURE', 'NOTE'],
          sigs.map((s) => [
            String(s.line),
            s.role ?? '-',
            s.keyId ? (nameOf.get(s.keyId) ?? `${s.keyId.slice(0, 16)}…`) : '-',
            s.time ?? '-',
            s.status,
            s.note ?? '',
          ]),
        );
        process.stdout.write(
          `\n${!verdict ? 'no trust policy in this store: signatures checked, trust not judged' : verdict.ok ? 'the trust policy holds' : `the trust policy does not hold: ${verdict.reasons.join('; ')}`}\n`,
        );
      });
    });

  program
    .command('import')
    .description('verify bundle volumes and import them into the store (atomically, once all volumes are in)')
    .argument('[bundle...]', 'bundle files or volumes, in any order')
    .option('--override-custody <reason>', 'import even though custody fails the trust policy (local admin only; audited with the reason)')
    .option(
      '--abandon <bundle>',
      "drop a bundle's staged volumes (a bundle file, any of its volumes, or its id) instead of importing; audited",
    )
    .action(async (files: string[], o: { overrideCustody?: string; abandon?: string }, cmd: Command) => {
      if (o.abandon !== undefined && files.length > 0)
        throw new AirlockError('USAGE', 'import --abandon takes the bundle to drop and no volumes to import');
      if (o.abandon === undefined && files.length === 0)
        throw new AirlockError('USAGE', 'import: name the bundle files or volumes to import');
      await withStore(cmd, async (store) => {
        if (o.abandon !== undefined) {
          const r = await abandonStaging(store, o.abandon);
          if (globals(cmd).json) printJson(r);
          else
            process.stdout.write(
              `bundle ${r.name} ${r.bundleId}: staging set abandoned (volume(s) ${r.volumes.join(', ') || 'none'} dropped)\n`,
            );
          return;
        }
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
