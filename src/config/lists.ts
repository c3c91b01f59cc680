/**
 * Entries of list settings that could never match anything: an origin that is not one, a Host value
 * with a bad port, a host path that is not absolute. Such a typo would quietly leave the setting
 * doing nothing (or, for --mount-allowlist, drop the default roots), so it stops start-up instead.
 * Only lists that are set are read: a server started with none checks nothing.
 */
import { ConfigError } from './meta.ts';
import type { Config } from './schema.ts';

/** `scheme://host[:port]`: what a browser sends as Origin (no path, query or user info). */
function originProblem(entry: string): string | undefined {
  const fix = 'write scheme://host[:port], e.g. https://app.example.com';
  const url = URL.parse(entry.trim());
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    return `'${entry}' is not an origin; ${fix}`;
  if (url.origin !== entry.trim().toLowerCase().replace(/\/+$/, ''))
    return `'${entry}' is not an origin (it has a path, query or user info); ${fix}`;
  return undefined;
}

// A Host header value: a name (RFC 3986 reg-name without escapes) or a bracketed IPv6 address, and a port.
const HOST = /^(?:[a-z0-9._~-]+|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$/i;

function hostProblem(entry: string): string | undefined {
  const m = HOST.exec(entry.trim());
  if (!m)
    return `'${entry}' is not a Host value; write a name or name:port (no scheme or path), e.g. docker.example or docker.example:8000`;
  const port = m[1] === undefined ? undefined : Number(m[1]);
  if (port !== undefined && (port < 1 || port > 65_535))
    return `'${entry}' names port ${port}; a port is 1 to 65535`;
  return undefined;
}

/** An absolute path (`/x`, `C:\x`, `\\server\share`), or `~` / `~/x` for the home. */
const ABSOLUTE = /^(?:\/|~$|~\/|[a-z]:[\\/]|\\\\)/i;

const pathProblem = (entry: string): string | undefined =>
  ABSOLUTE.test(entry.trim())
    ? undefined
    : `'${entry}' is not an absolute path, so it would match nothing; write it in full (e.g. /srv/project) or as ~/project`;

const CHECKS: [keyof Config & string, (entry: string) => string | undefined][] = [
  ['allowedOrigins', originProblem],
  ['allowedHosts', hostProblem],
  ['volumeMountAllowlist', pathProblem],
  ['volumeMountBlocklist', pathProblem],
];

/** Throws a ConfigError naming the setting, where it came from and the first bad entry. */
export function checkListEntries(config: Config, sources: Record<string, string>): void {
  for (const [key, problemOf] of CHECKS) {
    const entries = config[key] as readonly string[];
    for (const entry of entries) {
      const problem = problemOf(entry);
      if (problem) throw new ConfigError(`setting '${key}' (from ${sources[key]}): ${problem}`);
    }
  }
}
