/** The .npmrc lines for using airlock as the registry (all packages, or one scope only). */
export function npmClientConfig(baseUrl: string): string {
  const registry = `${baseUrl}/npm/`;
  const auth = registry.replace(/^https?:/, '');
  return [
    "# ~/.npmrc or the project's .npmrc: every package from airlock",
    `registry=${registry}`,
    `${auth}:_authToken=\${AIRLOCK_TOKEN}`,
    '# package-locks name the upstream in "resolved": fetch those tarballs from airlock too',
    'replace-registry-host=always',
    '',
    '# or only one scope from airlock, the rest from the default registry',
    `@myscope:registry=${registry}`,
    '',
    '# publish: npm publish (a publisher token in AIRLOCK_TOKEN), or npm login --auth-type=legacy',
    '# with any user name and a publisher token as the password',
    '',
  ].join('\n');
}
