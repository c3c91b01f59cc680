/**
 * OAuth 2.1 resource-server mode: `Authorization: Bearer <JWT>` checked with jose against the issuer's
 * keys — signature (asymmetric algorithms only, so neither `none` nor an HMAC made with a public key
 * passes), `iss`, `aud` (default: this server's own resource URLs), `exp` (required) and `nbf` with the
 * configured skew, and the required scopes. Client id = `sub`, else `client_id`; scopes (`scope` string
 * or `scp` list) pick the profile through the resolver. Refusals carry the RFC 6750 challenge with the
 * RFC 9728 metadata URL, so a client can discover the authorization server.
 */
import { errors, type JWTPayload, jwtVerify } from 'jose';
import type { Log } from '../../log.ts';
import type { AuthResult, ProfileResolver, Verifier } from './auth-types.ts';
import { parseHostHeader } from './host-origin.ts';
import { jwksSource } from './oauth-jwks.ts';
import { validClientId } from './ssh-keys.ts';

export interface OAuthVerifierOptions {
  issuer: string;
  /** Accepted `aud` values; empty = this server's own resource URLs (`resourceUrls`). */
  audience: string[];
  jwksUrl?: string;
  jwksFile?: string;
  requiredScopes: string[];
  clockSkewSeconds: number;
  resolve: ProfileResolver;
  log: Log;
  /** This server's own resource URLs, the bound one first (`ownResourceUrls`). */
  resourceUrls: () => readonly string[];
}

const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/;
export const WELL_KNOWN_PATH = '/.well-known/oauth-protected-resource';

/** RFC 9728 §3.1: the metadata of `https://h/mcp` lives at `https://h/.well-known/oauth-protected-resource/mcp`. */
export function metadataUrl(resource: string): string {
  const u = URL.parse(resource);
  if (!u) return WELL_KNOWN_PATH;
  return `${u.origin}${WELL_KNOWN_PATH}${u.pathname === '/' ? '' : u.pathname}`;
}

/**
 * This server's own resource URLs: the bound URL; on a loopback bind the loopback names on the bound
 * port; and each --allowed-hosts name, on its own port if the entry gives one, else the bound port.
 * A name on another port is another server, so a token minted for it is not accepted here.
 */
export function ownResourceUrls(bound: string, loopback: boolean, allowedHosts: readonly string[]): string[] {
  const b = URL.parse(bound);
  if (!b) return [bound];
  const port = b.port ? `:${b.port}` : '';
  const hosts = loopback ? ['localhost', '127.0.0.1', '[::1]'].map((h) => `${h}${port}`) : [];
  for (const entry of allowedHosts) {
    const h = parseHostHeader(entry);
    if (h) hosts.push(h.port === undefined ? `${h.name}${port}` : `${h.name}:${h.port}`);
  }
  const urls = [b.href];
  for (const host of hosts) {
    const u = URL.parse(`${b.protocol}//${host}${b.pathname}`);
    if (u && !urls.includes(u.href)) urls.push(u.href);
  }
  return urls;
}

/**
 * The resource URL as this client addressed it: the own URL whose host is the request's Host (so a
 * server bound to 0.0.0.0 and reached as mcp.example.com names itself https://mcp.example.com:8000/mcp,
 * as RFC 9728 clients expect), else the bound one. Never a URL made from the Host alone.
 */
export function resourceFor(request: Request | undefined, own: readonly string[]): string {
  const first = own[0] ?? '';
  const host = request?.headers.get('host');
  if (!host || !/^[\w.:[\]-]+$/.test(host)) return first;
  for (const url of own) {
    const u = URL.parse(url);
    if (u && URL.parse(`${u.protocol}//${host}/`)?.host === u.host) return url;
  }
  return first;
}

/** Scopes from `scope` (space-separated, RFC 9068) or `scp` (a list, some issuers). */
export function scopesOf(payload: JWTPayload): string[] {
  if (typeof payload.scope === 'string') return payload.scope.split(' ').filter(Boolean);
  if (Array.isArray(payload.scp)) return payload.scp.filter((s): s is string => typeof s === 'string');
  return [];
}

/** What a legitimate client can act on, from jose's error; the rest stays in `detail`. */
function explain(e: unknown): string {
  if (e instanceof errors.JWTExpired) return 'access token expired: get a new one';
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.claim === 'iss') return 'access token is from another issuer than this server trusts';
    if (e.claim === 'aud') return 'access token is not for this server (audience)';
    if (e.claim === 'nbf') return 'access token is not valid yet; check the clock';
    if (e.claim === 'exp') return 'access token has no expiry; this server requires one';
  }
  if (e instanceof errors.JWKSTimeout || !(e instanceof errors.JOSEError))
    return "could not check the access token: the issuer's keys are unavailable; retry later";
  return 'access token not accepted: its signature or format did not check out';
}

export function createOAuthVerifier(o: OAuthVerifierOptions): Verifier {
  const keys = jwksSource({ jwksUrl: o.jwksUrl, jwksFile: o.jwksFile, log: o.log });
  const challenge = (extra = '', request?: Request) =>
    `Bearer${extra}${extra ? ',' : ''} resource_metadata="${metadataUrl(resourceFor(request, o.resourceUrls()))}"`;
  const q = (s: string) => s.replace(/["\\]/g, '');
  const invalid = (request: Request, error: string, detail: string): AuthResult => ({
    ok: false,
    status: 401,
    error,
    challenge: challenge(` error="invalid_token", error_description="${q(error)}"`, request),
    detail,
  });
  const insufficient = (
    request: Request,
    error: string,
    scope: string,
    detail: string,
    claimedClientId: string,
  ): AuthResult => ({
    ok: false,
    status: 403,
    error,
    challenge: challenge(` error="insufficient_scope", scope="${q(scope)}"`, request),
    detail,
    claimedClientId,
  });

  return {
    method: 'oauth',
    get challenge() {
      return challenge();
    },
    challengeFor: (request) => challenge('', request),
    async verify(request) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
      const token = m?.[1];
      if (!token || !JWT_SHAPE.test(token)) return undefined;
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: o.issuer,
          // This server's own URLs, never one derived from the request's Host.
          audience: o.audience.length > 0 ? o.audience : [...o.resourceUrls()],
          clockTolerance: o.clockSkewSeconds,
          algorithms: ALGORITHMS,
          requiredClaims: ['exp'],
        }));
      } catch (e) {
        return invalid(
          request,
          explain(e),
          // jose's error code, not its class name (minified in the binary).
          `oauth: ${e instanceof errors.JOSEError ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : 'bad token'}`,
        );
      }
      const clientId = [payload.sub, payload.client_id].find(
        (c): c is string => typeof c === 'string' && c !== '',
      );
      if (!clientId || !validClientId(clientId))
        return invalid(request, 'access token has no usable sub or client_id', 'oauth: no sub/client_id');
      const scopes = scopesOf(payload);
      const missing = o.requiredScopes.filter((s) => !scopes.includes(s));
      if (missing.length > 0)
        return insufficient(
          request,
          `access token lacks the scope ${missing.join(' ')}`,
          o.requiredScopes.join(' '),
          `oauth: ${clientId} has [${scopes.join(' ')}]`,
          clientId,
        );
      const profile = o.resolve(clientId, scopes);
      if (!profile)
        return insufficient(
          request,
          'no scope of this access token grants access to this server',
          o.requiredScopes.join(' '),
          `oauth: ${clientId} scopes [${scopes.join(' ')}] map to no profile`,
          clientId,
        );
      return { ok: true, principal: { clientId, method: 'oauth', profile } };
    },
  };
}

export interface ProtectedResourceOptions {
  issuer: string;
  resourceUrls: () => readonly string[];
  /** Scopes this server maps to profiles (a function: the auth file is re-read on change). */
  scopesSupported: string[] | (() => string[]);
}

/** `GET /.well-known/oauth-protected-resource` (RFC 9728). */
export function protectedResourceMetadata(o: ProtectedResourceOptions): (request: Request) => Response {
  return (request) =>
    Response.json({
      resource: resourceFor(request, o.resourceUrls()),
      authorization_servers: [o.issuer],
      scopes_supported: typeof o.scopesSupported === 'function' ? o.scopesSupported() : o.scopesSupported,
      bearer_methods_supported: ['header'],
      resource_name: 'mcp-docker',
    });
}
