import { DEFAULT_CHANNEL_ALIAS } from './schema.js';

/**
 * conda/mamba/micromamba read `.condarc`: `channel_alias` turns every channel name into a
 * channel on the mirror (it serves channels under their upstream paths: `conda-forge`,
 * `pkgs/main`). pixi and rattler keep the upstream URLs in their locks and swap the prefix
 * through `[mirrors]`.
 */
export function condaClientConfig(baseUrl: string, client: string): string {
  const root = `${baseUrl}/conda`;
  if (client === 'pixi') {
    return [
      '# ~/.config/pixi/config.toml (or /etc/pixi/config.toml for every user)',
      '[mirrors]',
      `"${DEFAULT_CHANNEL_ALIAS}" = ["${root}"]`,
      `"https://repo.anaconda.com" = ["${root}"]`,
      '',
      '# a channel from another host: "<its URL>" = ["' + root + '/<its path>"]',
      '',
    ].join('\n');
  }
  return [
    '# ~/.condarc (conda, mamba, micromamba)',
    `channel_alias: ${root}`,
    'channels:',
    '  - conda-forge',
    'default_channels:',
    `  - ${root}/pkgs/main`,
    'show_channel_urls: true',
    '# or, leaving channel_alias as it is, only some channels from the mirror:',
    '# custom_channels:',
    `#   bioconda: ${root}`,
    '',
    `# or once, without a .condarc: conda create -n env --override-channels -c ${root}/conda-forge <specs>`,
    `# the mirror's channels: ${baseUrl}/api/artifacts, or airlock list --ecosystem conda`,
    '',
  ].join('\n');
}
