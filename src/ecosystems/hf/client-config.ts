/** What huggingface_hub, transformers and @huggingface/hub need to read from airlock. */
export function hfClientConfig(baseUrl: string): string {
  return [
    '# in the environment of every process that loads models (shell profile, systemd unit, container env)',
    `export HF_ENDPOINT=${baseUrl}/hf`,
    '# snapshot_download, hf_hub_download and from_pretrained("org/name") then work unchanged;',
    '# HF_HUB_OFFLINE is not needed: the mirror answers the Hub API itself.',
    '# @huggingface/hub (JS): pass hubUrl: process.env.HF_ENDPOINT',
    '',
  ].join('\n');
}
