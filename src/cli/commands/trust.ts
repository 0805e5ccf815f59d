import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { AirlockError, describeError } from '../../core/errors.js';
import { installedPolicy } from '../../custody/gate.js';
import { parseTrustPolicy } from '../../custody/policy.js';
import { setTrustPolicy } from '../../services/trust.js';
import { globals, printJson, withStore } from '../common.js';

export function register(program: Command): void {
  const trust = program.command('trust').description('the trust policy imports are checked against');
  trust
    .command('set')
    .description('validate a trust.yaml and install it (audited); from then on every import must satisfy it')
    .argument('<trust.yaml>')
    .action(async (file: string, _o, cmd: Command) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        throw new AirlockError('CONFIG_INVALID', `${file}: ${describeError(e)}`);
      }
      const policy = parseTrustPolicy(text, file);
      await withStore(cmd, (store) => setTrustPolicy(store, policy, file));
      if (globals(cmd).json) printJson({ file, roles: Object.keys(policy.roles), requireRoles: policy.rules.requireRoles });
      else
        process.stdout.write(
          `trust policy from ${file} installed: roles ${Object.keys(policy.roles).join(', ')}; required ${policy.rules.requireRoles.join(', ')}\n`,
        );
    });
  trust
    .command('show')
    .description('print the trust policy in force')
    .action(async (_o, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const row = await store.meta.trustPolicy();
        const policy = await installedPolicy(store);
        if (!row || !policy) {
          if (globals(cmd).json) printJson(null);
          else process.stdout.write('no trust policy: imports are not checked for custody (airlock trust set trust.yaml)\n');
          return;
        }
        if (globals(cmd).json) {
          printJson({ source: row.source, installedAt: row.installedAt, policy });
          return;
        }
        const lines = [`installed ${row.installedAt} from ${row.source}`, 'keys:'];
        for (const [name, k] of Object.entries(policy.keys))
          lines.push(`  ${name}  ${k.keyId}${policy.revoked.includes(k.keyId) ? '  REVOKED' : ''}`);
        lines.push('roles:');
        for (const [role, r] of Object.entries(policy.roles)) lines.push(`  ${role}: ${r.threshold} of ${r.keys.join(', ')}`);
        lines.push(
          `rules: required ${policy.rules.requireRoles.join(', ')}; separateDuties ${policy.rules.separateDuties}; maxAge ${policy.rules.maxAgeMs !== undefined ? `${policy.rules.maxAgeMs / 86_400_000} day(s)` : 'none'}`,
        );
        if (policy.revoked.length) lines.push(`revoked: ${policy.revoked.join(', ')}`);
        process.stdout.write(`${lines.join('\n')}\n`);
      });
    });
}
