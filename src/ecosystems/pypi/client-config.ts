/** pip, uv and environment lines for an airlock index. */
export function pypiClientConfig(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  const index = `${base}/pypi/simple/`;
  const host = new URL(base).hostname;
  return [
    '# pip: ~/.config/pip/pip.conf (or /etc/pip.conf)',
    '[global]',
    `index-url = ${index}`,
    ...(base.startsWith('http:') ? [`trusted-host = ${host}`] : []),
    '',
    '# uv: ~/.config/uv/uv.toml',
    '[[index]]',
    `url = "${index}"`,
    'default = true',
    '',
    '# or, for one shell:',
    `export PIP_INDEX_URL=${index}`,
    `export UV_DEFAULT_INDEX=${index}`,
    '',
    '# With serve --auth required, put a reader token in the URL (user is ignored):',
    `#   index-url = ${base.replace('://', '://token:$AIRLOCK_TOKEN@')}/pypi/simple/`,
    '# Publishing: twine upload --repository-url ' + `${base}/pypi/legacy/ -u __token__ -p "$AIRLOCK_PUBLISHER_TOKEN" dist/*`,
    '',
  ].join('\n');
}
