/** curl and wget lines for the files a mirror serves. */
export function filesClientConfig(baseUrl: string): string {
  // One text serves `files`, `curl` and `wget`: the commands sit side by side.
  const base = baseUrl.replace(/\/+$/, '');
  return [
    '# Download a file (replace PATH with the path from `airlock list --ecosystem files`):',
    `curl -fSLO ${base}/files/PATH`,
    `wget ${base}/files/PATH`,
    '# Resume an interrupted download:',
    `curl -fSL -C - -O ${base}/files/PATH`,
    `wget --continue ${base}/files/PATH`,
    '# When the server runs with --auth required, pass a reader token as the password:',
    `curl -fSLO -u token:"$AIRLOCK_TOKEN" ${base}/files/PATH`,
    `wget --user=token --password="$AIRLOCK_TOKEN" ${base}/files/PATH`,
    '',
  ].join('\n');
}
