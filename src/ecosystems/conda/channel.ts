import { AirlockError, quoteShort } from '../../core/errors.js';
import { redactUrl } from '../../core/redact.js';
import { urlCredentialProblem } from '../../manifest/url.js';
import { KNOWN_SUBDIRS } from './platforms.js';

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/;
/** A package file name: `<name>-<version>-<build>.conda` or `.tar.bz2`. */
const PACKAGE_FILE = /^[A-Za-z0-9_][A-Za-z0-9._+!-]*-[^-/]+-[^-/]+\.(conda|tar\.bz2)$/;

export function isPackageFile(name: string): boolean {
  return PACKAGE_FILE.test(name) && !name.includes('..');
}

/** Where conda credentials would come from: nowhere yet, which the refusal says. */
export const CHANNEL_CREDENTIALS = 'airlock sends no channel credentials yet, so use a channel that needs none';

/**
 * Why a channel entry must not be used as written: a URL with a password, a token in its
 * query or conda's `/t/<token>/` path form, all of which the lock and the bundle would record.
 */
export function channelCredentialProblem(entry: string): string | undefined {
  if (!/^https?:\/\//.test(entry)) return undefined;
  if (URL.canParse(entry) && new URL(entry).pathname.split('/')[1] === 't')
    return `must not carry a token (/t/<token>/): it is written to airlock.lock and the bundle; ${CHANNEL_CREDENTIALS}`;
  return urlCredentialProblem(entry, CHANNEL_CREDENTIALS);
}

/** A channel as airlock.yaml or an environment file names it: a URL, or a name under the alias. */
export function channelUrl(entry: string, alias: string): string {
  if (/^https?:\/\//.test(entry)) {
    if (!URL.canParse(entry)) throw new AirlockError('CONFIG_INVALID', `channel ${redactUrl(entry)}: not a valid URL`);
    const bad = channelCredentialProblem(entry);
    if (bad) throw new AirlockError('CONFIG_INVALID', `channel ${redactUrl(entry)}: ${bad}`);
    return entry.replace(/\/+$/, '');
  }
  const name = entry.replace(/^\/+|\/+$/g, '');
  if (!isChannelName(name))
    throw new AirlockError('CONFIG_INVALID', `channel ${entry}: expected a URL or a channel name such as conda-forge`);
  return `${alias.replace(/\/+$/, '')}/${name}`;
}

/**
 * The name a channel is served under on the closed side, `/conda/<name>/`: its URL's path, as
 * conda names channels (`conda-forge`, `pkgs/main`), so `channel_alias` alone redirects
 * clients; a channel at a host's root is named after the host.
 */
export function channelName(url: string): string {
  const u = new URL(url);
  const path = decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, '');
  const name = path || `${u.hostname}${u.port ? `-${u.port}` : ''}`;
  if (!isChannelName(name)) throw new AirlockError('CONFIG_INVALID', `channel ${redactUrl(url)}: its path cannot name a served channel`);
  return name;
}

/** Whether a name can be a served channel's: path segments of letters, digits and `._+-`. */
function isChannelName(name: string): boolean {
  return name.length > 0 && name.split('/').every((s) => SEGMENT.test(s));
}

/** Where one package file lives: its channel, subdir and file name. */
export interface PackageLocation {
  channelUrl: string;
  subdir: string;
  filename: string;
  /** The URL without any `#hash` fragment. */
  url: string;
}

/**
 * `<channel>/<subdir>/<file>` from a package URL, as explicit files and locks give them.
 * `raw` is a line of a file that may be anything, so messages name `where` and quote at most
 * a short prefix of the part that failed (the scheme, the file name), never the line.
 */
export function parsePackageUrl(raw: string, where: string): PackageLocation {
  if (!URL.canParse(raw)) throw new AirlockError('CONFIG_INVALID', `${where}: not a URL`);
  const u = new URL(raw);
  if (!/^https?:$/.test(u.protocol))
    throw new AirlockError('CONFIG_INVALID', `${where}: a ${quoteShort(u.protocol, 12)} URL is not an http(s) URL`);
  const bad = channelCredentialProblem(raw);
  if (bad) throw new AirlockError('CONFIG_INVALID', `${where}: the package URL ${bad}`);
  u.hash = '';
  const parts = u.pathname.split('/');
  let filename: string;
  try {
    filename = decodeURIComponent(parts.pop() ?? '');
  } catch {
    throw new AirlockError('CONFIG_INVALID', `${where}: the package URL's file name is not valid percent-encoding`);
  }
  const subdir = parts.pop() ?? '';
  if (!isPackageFile(filename) || !KNOWN_SUBDIRS.has(subdir)) {
    throw new AirlockError(
      'CONFIG_INVALID',
      `${where}: ${quoteShort(filename)} in ${quoteShort(subdir, 20)} is not a conda package URL (<channel>/<subdir>/<name>-<version>-<build>.conda|.tar.bz2)`,
    );
  }
  u.pathname = parts.join('/');
  return { channelUrl: u.toString().replace(/\/+$/, ''), subdir, filename, url: raw.replace(/#.*$/, '') };
}
