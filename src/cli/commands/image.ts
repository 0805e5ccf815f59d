import type { Command } from 'commander';
import { AirlockError } from '../../core/errors.js';
import { type SaveFormat, hostPlatform, saveImage } from '../../ecosystems/oci/save.js';
import { PLATFORMS, normalizePlatform } from '../../manifest/target.js';
import { globals, printJson, withStore } from '../common.js';

export function register(program: Command): void {
  const image = program.command('image').description('container images in the store');
  image
    .command('save')
    .description('write one platform of a stored image as an archive docker load / podman load / apptainer read (offline)')
    .argument('<ref>', 'e.g. docker.io/library/nginx:1.27-alpine or team/app@sha256:…')
    .requiredOption('-o, --out <file>', 'the archive to write')
    .option('--format <format>', 'docker-archive | oci-archive', 'docker-archive')
    .option('--platform <os/arch>', `which platform of a multi-platform image (default: ${hostPlatform()})`)
    .action(async (ref: string, o: { out: string; format: string; platform?: string }, cmd: Command) => {
      if (o.format !== 'docker-archive' && o.format !== 'oci-archive')
        throw new AirlockError('USAGE', `--format: "${o.format}" (expected docker-archive or oci-archive)`);
      const platform = o.platform === undefined ? undefined : normalizePlatform(o.platform);
      if (o.platform !== undefined && !platform) {
        throw new AirlockError(
          'USAGE',
          `--platform: "${o.platform.slice(0, 40)}" is not a platform airlock knows (known: ${PLATFORMS.join(', ')})`,
        );
      }
      const saved = await withStore(cmd, (store) =>
        saveImage(store, ref, { out: o.out, format: o.format as SaveFormat, ...(platform ? { platform } : {}) }),
      );
      if (globals(cmd).json) printJson(saved);
      else process.stdout.write(`${saved.file}: ${ref} (${saved.platform}, ${saved.digest})\n`);
    });
}
