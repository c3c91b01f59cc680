/**
 * Where the issuer's signing keys come from: a JWKS file (air-gapped hosts; re-read when it changes, the
 * last good set kept if the new one is broken) or a JWKS URL (jose's remote set: cached, re-fetched when
 * a token names an unknown key id, at most every 30 s).
 */
import { readFileSync, statSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { StartupError } from './tls.ts';

export interface JwksOptions {
  jwksUrl?: string;
  jwksFile?: string;
  log: { warn(...args: unknown[]): unknown; info(...args: unknown[]): unknown };
  /** How often, at most, the file's stamp is checked (ms). */
  recheckMs?: number;
}

export function jwksSource(o: JwksOptions): JWTVerifyGetKey {
  if (o.jwksFile) return fileJwks(o.jwksFile, o.log, o.recheckMs ?? 1000);
  if (o.jwksUrl) {
    let url: URL;
    try {
      url = new URL(o.jwksUrl);
    } catch {
      throw new StartupError(`--oauth-jwks-url '${o.jwksUrl}' is not a URL`);
    }
    if (url.protocol !== 'https:' && !isLoopbackUrl(url))
      throw new StartupError(`--oauth-jwks-url must use https (plain http only on loopback): ${o.jwksUrl}`);
    return createRemoteJWKSet(url, { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
  }
  throw new StartupError('--oauth needs the issuer keys: --oauth-jwks-file or --oauth-jwks-url');
}

const isLoopbackUrl = (u: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);

function fileJwks(path: string, log: JwksOptions['log'], recheckMs: number): JWTVerifyGetKey {
  let current: JWTVerifyGetKey | undefined;
  let stamp = '';
  let checkedAt = 0;
  const load = (): string | undefined => {
    try {
      const st = statSync(path);
      const next = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (next === stamp) return undefined;
      stamp = next;
      const jwks = JSON.parse(readFileSync(path, 'utf8'));
      if (!Array.isArray(jwks?.keys)) return 'no "keys" array';
      current = createLocalJWKSet(jwks);
      log.info(`OAuth JWKS file ${path}: ${jwks.keys.length} key(s)`);
      return undefined;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code ?? (e instanceof SyntaxError ? 'not JSON' : 'unreadable');
    }
  };
  const first = load();
  if (first || !current)
    throw new StartupError(
      `cannot use the OAuth JWKS file ${path} (${first ?? 'no keys'}): it must be a JSON Web Key Set`,
    );
  return (header, token) => {
    const now = Date.now();
    if (now - checkedAt >= recheckMs) {
      checkedAt = now;
      const why = load();
      if (why) log.warn(`OAuth JWKS file ${path}: ${why}; keeping the last good keys`);
    }
    return (current as JWTVerifyGetKey)(header, token);
  };
}
