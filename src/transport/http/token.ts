/**
 * Bearer tokens. The auth file stores `sha256:<hex>` of each token, never the token: tokens are 32
 * random bytes, so a plain hash cannot be brute-forced and a leaked file grants nothing. A presented
 * token is hashed and compared with every configured hash in constant time, so the time taken says
 * neither whether nor which one matched.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthResult, Verifier } from './auth-types.ts';
import type { Credentials } from './credentials.ts';

export function hashToken(token: string): string {
  return `sha256:${createHash('sha256').update(token, 'utf8').digest('hex')}`;
}

export interface TokenEntry {
  clientId: string;
  /** The 32 hash bytes. */
  hash: Buffer;
}

/** The client id whose hash matches, checking every entry whatever the outcome. */
export function matchToken(token: string, entries: readonly TokenEntry[]): string | undefined {
  const presented = createHash('sha256').update(token, 'utf8').digest();
  let found: string | undefined;
  for (const e of entries) if (timingSafeEqual(presented, e.hash) && found === undefined) found = e.clientId;
  return found;
}

/** The token of an `Authorization: Bearer …` header, or undefined. */
export function bearerOf(request: Request): string | undefined {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(request.headers.get('authorization') ?? '');
  return m?.[1];
}

/** Three base64url parts: a JWT, for the OAuth verifier rather than this one. */
export const looksLikeJwt = (token: string) => /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);

export const TOKEN_CHALLENGE = 'Bearer realm="mcp-docker"';

export function tokenVerifier(o: { credentials: Credentials; oauthEnabled: boolean }): Verifier {
  return {
    method: 'token',
    challenge: TOKEN_CHALLENGE,
    async verify(request): Promise<AuthResult | undefined> {
      const token = bearerOf(request);
      if (token === undefined || (o.oauthEnabled && looksLikeJwt(token))) return undefined;
      const auth = o.credentials.current();
      const clientId = matchToken(token, auth.tokens);
      const profile = clientId === undefined ? undefined : auth.clients.get(clientId)?.profile;
      if (clientId === undefined || profile === undefined)
        return {
          ok: false,
          status: 401,
          error: 'invalid bearer token: check the token, or ask the operator for one (mcp-docker hash-token)',
          challenge: `${TOKEN_CHALLENGE}, error="invalid_token"`,
          detail:
            clientId === undefined
              ? 'no configured token hash matches'
              : `token of ${clientId}, which has no profile`,
          ...(clientId !== undefined && { claimedClientId: clientId }),
        };
      return { ok: true, principal: { clientId, method: 'token', profile } };
    },
  };
}
