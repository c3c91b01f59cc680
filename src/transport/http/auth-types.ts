/**
 * The contract between HTTP authentication methods (bearer token, SSH-signed request, OAuth JWT) and
 * the auth plugin that runs them. A verifier reads headers only (never the body, which the MCP route
 * reads raw) and answers: not mine, a principal, or a refusal the client can act on.
 */
import type { SafetyProfile } from '../../pipeline/gate.ts';

export type AuthMethod = 'token' | 'ssh' | 'oauth' | 'none';

/** Who is calling, once a credential checked out. */
export interface Principal {
  /**
   * The name the credential gives (a token's client id, a key's comment, a JWT sub): what the auth file
   * and audit lines name. Unique only within its method: key state by `callerKey`, never by this alone.
   */
  clientId: string;
  method: AuthMethod;
  /** What this caller may do: tools/list shows and tools/call allows only this. */
  profile: SafetyProfile;
}

/**
 * Who a caller is for everything keyed by caller (the confirmation seal, sessions, rate limits, session
 * quotas): the method and the name, so the token client `bob`, the SSH key `bob` and an OAuth subject
 * `bob` (which any identity provider may issue) are three callers. An anonymous caller is its address.
 */
export const callerKey = (p: Principal): string =>
  p.method === 'none' ? p.clientId : `${p.method}:${p.clientId}`;

export type AuthResult =
  | { ok: true; principal: Principal }
  /**
   * 401: missing or bad credential (send `challenge` as WWW-Authenticate); 403: valid but not allowed.
   * `error` is safe to show the client; `detail` is for the audit log only (never sent).
   */
  | {
      ok: false;
      status: 401 | 403;
      error: string;
      challenge?: string;
      detail?: string;
      /** The client id the credential named (a Signature keyId, a known token's client), for the audit log only: unproven on a 401. */
      claimedClientId?: string;
      /** No credential was sent at all (a client's first request, OAuth discovery): not a guess. */
      noCredential?: true;
    };

export interface Verifier {
  /** For logs and audit lines. */
  method: Exclude<AuthMethod, 'none'>;
  /** WWW-Authenticate challenge for this method, listed on a 401 when no credential was presented. */
  challenge?: string;
  /** Same, for one request (e.g. a URL built from its checked Host); wins over `challenge`. */
  challengeFor?(request: Request): string;
  /** `undefined` when the request carries no credential of this kind, so the next verifier is tried. */
  verify(request: Request): Promise<AuthResult | undefined>;
  /** Stops file watchers and timers. */
  close?(): void;
}

/** Maps a client id (and, for OAuth, its scopes) to a profile; `undefined` = unknown client, refuse. */
export type ProfileResolver = (clientId: string, scopes?: readonly string[]) => SafetyProfile | undefined;
