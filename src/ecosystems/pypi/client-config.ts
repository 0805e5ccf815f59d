/** The lines pip, uv or twine need to use an airlock index. */
export function pypiClientConfig(baseUrl: string, client: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  const index = `${base}/pypi/simple/`;
  const withToken = `${base.replace('://', '://token:$AIRLOCK_TOKEN@')}/pypi/simple/`;
  const lines: Record<string, string[]> = {
    pip: [
      '# ~/.config/pip/pip.conf (or /etc/pip.conf)',
      '[global]',
      `index-url = ${index}`,
      ...(base.startsWith('http:') ? [`trusted-host = ${new URL(base).hostname}`] : []),
      '',
      '# or, for one shell:',
      `export PIP_INDEX_URL=${index}`,
      '# with serve --auth required, a reader token in the URL (the user name is ignored):',
      `#   index-url = ${withToken}`,
    ],
    uv: [
      '# ~/.config/uv/uv.toml',
      '[[index]]',
      `url = "${index}"`,
      'default = true',
      '',
      '# or, for one shell:',
      `export UV_DEFAULT_INDEX=${index}`,
      '# with serve --auth required:',
      `#   export UV_DEFAULT_INDEX=${withToken}`,
    ],
    twine: [
      '# publishing needs a publisher token',
      `twine upload --repository-url ${base}/pypi/legacy/ -u __token__ -p "$AIRLOCK_PUBLISHER_TOKEN" dist/*`,
    ],
  };
  return `${(lines[client] ?? lines.pip!).join('\n')}\n`;
}
