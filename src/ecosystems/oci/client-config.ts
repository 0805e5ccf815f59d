/** What docker, podman and containerd need to pull through airlock instead of the internet. */
export function ociClientConfig(baseUrl: string, client: string): string {
  const u = new URL(baseUrl);
  const host = u.host;
  const insecure = u.protocol === 'http:';
  if (client === 'docker') {
    return [
      '# /etc/docker/daemon.json (then restart dockerd). Docker Hub pulls go through airlock;',
      '# other registries: docker pull ' + `${host}/<registry>/<path>:<tag>`,
      '# Docker sends no credentials to a mirror: where the server wants them (serve --auth required),',
      `# docker login ${host}, then pull Docker Hub images as ${host}/docker.io/<path>:<tag>`,
      JSON.stringify({ 'registry-mirrors': [baseUrl], ...(insecure ? { 'insecure-registries': [host] } : {}) }, null, 2),
      '',
    ].join('\n');
  }
  if (client === 'podman') {
    // A mirror entry per registry: Docker Hub's images are served as P, every other host's as H/P.
    const mirror = (registry: string, location: string) => [
      '[[registry]]',
      `prefix = "${registry}"`,
      `location = "${registry}"`,
      '[[registry.mirror]]',
      `location = "${location}"`,
      ...(insecure ? ['insecure = true'] : []),
      '',
    ];
    return [
      '# /etc/containers/registries.conf.d/airlock.conf (or ~/.config/containers/registries.conf)',
      ...mirror('docker.io', host),
      '# Another registry, e.g. ghcr.io: its images are served under ghcr.io/<path>',
      ...mirror('ghcr.io', `${host}/ghcr.io`),
    ].join('\n');
  }
  return [
    '# /etc/containerd/certs.d/docker.io/hosts.toml (config_path = "/etc/containerd/certs.d");',
    '# containerd adds ?ns=docker.io, which airlock uses to pick the host. Repeat per registry.',
    'server = "https://registry-1.docker.io"',
    '',
    `[host."${baseUrl}"]`,
    '  capabilities = ["pull", "resolve"]',
    ...(insecure ? ['  skip_verify = true'] : []),
    '',
  ].join('\n');
}
