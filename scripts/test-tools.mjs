#!/usr/bin/env node
// Provisions what `npm test` drives: the end-to-end tests run real clients and servers
// (pip, twine, skopeo, podman, dockerd, containerd, docker-registry, conda's packager) and
// put the closed side in a network namespace of its own. Missing Debian packages are
// installed when this runs as root on a machine with apt-get; otherwise it stops at once
// with the one command that would install them, so a run is never silently partial.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const onPath = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
const wheel = (name) => {
  try {
    return readdirSync('/usr/share/python-wheels').some((f) => f.startsWith(`${name}-`) && f.endsWith('.whl'));
  } catch {
    return false;
  }
};
const python = (code) => spawnSync('python3', ['-c', code], { stdio: 'ignore' }).status === 0;

/** What each test needs, and the Debian package that brings it. */
const NEEDS = [
  ['curl', () => onPath('curl'), 'curl'],
  ['twine', () => onPath('twine'), 'twine'],
  ['python3', () => onPath('python3'), 'python3'],
  ['python3 -m venv', () => python('import ensurepip, venv'), 'python3-venv'],
  ['pip wheel', () => wheel('pip'), 'python3-pip-whl'],
  ['setuptools wheel', () => wheel('setuptools'), 'python3-setuptools-whl'],
  ['wheel wheel', () => wheel('wheel'), 'python3-wheel-whl'],
  ['unshare, nsenter', () => onPath('unshare') && onPath('nsenter'), 'util-linux'],
  ['script', () => onPath('script'), 'bsdutils'],
  ['ip', () => onPath('ip'), 'iproute2'],
  ['openssl', () => onPath('openssl'), 'openssl'],
  ['tar', () => onPath('tar'), 'tar'],
  ['sha256sum', () => onPath('sha256sum'), 'coreutils'],
  ['skopeo', () => onPath('skopeo'), 'skopeo'],
  ['docker-registry', () => onPath('docker-registry'), 'docker-registry'],
  ['htpasswd', () => onPath('htpasswd'), 'apache2-utils'],
  ['podman', () => onPath('podman'), 'podman'],
  ['dockerd, ctr', () => onPath('dockerd') && onPath('ctr'), 'docker.io'],
  ['cph', () => onPath('cph'), 'conda-package-handling'],
  ['zstd', () => onPath('zstd'), 'zstd'],
];

const missing = () => NEEDS.filter(([, present]) => !present());
const packages = (rows) => [...new Set(rows.map(([, , pkg]) => pkg))];
const root = typeof process.getuid === 'function' && process.getuid() === 0;

function fail(lines) {
  for (const l of lines) process.stderr.write(`${l}\n`);
  process.exit(1);
}

if (!root) {
  fail([
    'npm test: the end-to-end tests need root: they run the closed side under `unshare -n` and start dockerd/containerd.',
    `run as root: apt-get update && apt-get install -y ${packages(NEEDS).join(' ')} && npm test`,
  ]);
}

let absent = missing();
if (absent.length > 0) {
  const pkgs = packages(absent);
  if (!existsSync('/usr/bin/apt-get')) {
    fail([
      `npm test: missing ${absent.map(([what]) => what).join(', ')}, and there is no apt-get here to install the Debian packages ${pkgs.join(' ')}`,
    ]);
  }
  process.stderr.write(`npm test: installing the Debian packages the tests drive: ${pkgs.join(' ')}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
  if (!apt(['update', '-qq']) || !apt(['install', '-y', '-qq', ...pkgs])) {
    fail([`npm test: apt-get could not install ${pkgs.join(' ')}; run it by hand: apt-get update && apt-get install -y ${pkgs.join(' ')}`]);
  }
  absent = missing();
  if (absent.length > 0) fail([`npm test: still missing after apt-get: ${absent.map(([what]) => what).join(', ')}`]);
}

if (spawnSync('unshare', ['-n', 'true'], { stdio: 'ignore' }).status !== 0) {
  fail([
    'npm test: `unshare -n true` failed: the end-to-end tests need network namespaces (a container may need --privileged or CAP_SYS_ADMIN)',
  ]);
}
process.stderr.write('npm test: every tool the tests drive is here\n');
