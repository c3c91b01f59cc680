/**
 * OAuth 2.1 resource-server mode: `Authorization: Bearer <JWT>` verified with jose against the issuer's
 * keys. Skeleton: the real verifier lands next; the factory signature is the contract for serve.ts.
 */
import type { Log } from '../../log.ts';
import type { ProfileResolver, Verifier } from './auth-types.ts';

export interface OAuthVerifierOptions {
  issuer: string;
  /** Accepted `aud` values; empty = this server's resource URL. */
  audience: string[];
  jwksUrl?: string;
  jwksFile?: string;
  requiredScopes: string[];
  clockSkewSeconds: number;
  resolve: ProfileResolver;
  log: Log;
  /** This server's public resource URL (e.g. https://host:8000/mcp), known once bound. */
  resourceUrl: () => string;
}

export function createOAuthVerifier(_options: OAuthVerifierOptions): Verifier {
  return {
    method: 'oauth',
    verify: async () => undefined,
  };
}

export interface ProtectedResourceOptions {
  issuer: string;
  resourceUrl: () => string;
  scopesSupported: string[];
}

/** `GET /.well-known/oauth-protected-resource` (RFC 9728). */
export function protectedResourceMetadata(o: ProtectedResourceOptions): (request: Request) => Response {
  return () =>
    Response.json({
      resource: o.resourceUrl(),
      authorization_servers: [o.issuer],
      scopes_supported: o.scopesSupported,
      bearer_methods_supported: ['header'],
    });
}
