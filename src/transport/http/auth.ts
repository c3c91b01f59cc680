/**
 * Authentication: the configured verifiers run in order (token → SSH signature → OAuth JWT) and the
 * first that recognises its credential decides. With none configured, every caller is anonymous and
 * gets the server-wide profile. The principal is derived into the Elysia context and kept per Request
 * (`principalOf`), which is how `serverFor`, rate limits and the audit log learn who is calling.
 */
import { Elysia } from 'elysia';
import type { SafetyProfile } from '../../pipeline/gate.ts';
import type { AuthResult, Principal, Verifier } from './auth-types.ts';
import { jsonError } from './plugin.ts';

const principals = new WeakMap<Request, Principal>();

/** Who made this request, once the auth plugin has run (undefined before, or when refused). */
export const principalOf = (request: Request): Principal | undefined => principals.get(request);

export type Refusal = Extract<AuthResult, { ok: false }>;

/** The first verifier's answer that is not "not mine"; undefined when the request carries no credential. */
async function firstAnswer(
  request: Request,
  verifiers: readonly Verifier[],
): Promise<AuthResult | undefined> {
  for (const v of verifiers) {
    const result = await v.verify(request);
    if (result !== undefined) return result;
  }
  return undefined;
}

/** The first verifier's answer that is not "not mine"; a refusal when nobody recognised anything. */
export async function authenticate(request: Request, verifiers: readonly Verifier[]): Promise<AuthResult> {
  return (await firstAnswer(request, verifiers)) ?? noCredential(request, verifiers);
}

const noCredential = (request: Request, verifiers: readonly Verifier[]): AuthResult => ({
  ok: false,
  status: 401,
  error: `authentication required: send ${describe(verifiers)}`,
  challenge: challengeOf(verifiers, request),
  detail: 'no credential presented',
  noCredential: true,
});

const NAMES: Record<Verifier['method'], string> = {
  token: 'Authorization: Bearer <token>',
  ssh: 'an SSH-signed request',
  oauth: 'an OAuth access token',
};
const describe = (verifiers: readonly Verifier[]) =>
  [...new Set(verifiers.map((v) => NAMES[v.method]))].join(' or ') || 'a credential';

/** Every accepted scheme, one challenge each (RFC 9110 allows a list). */
export const challengeOf = (verifiers: readonly Verifier[], request?: Request) =>
  [
    ...new Set(
      verifiers.flatMap((v) => {
        const c = (request && v.challengeFor?.(request)) ?? v.challenge;
        return c ? [c] : [];
      }),
    ),
  ].join(', ') || 'Bearer';

export interface AuthOptions {
  /** Empty: authentication is off and every caller is anonymous with `serverProfile`. */
  verifiers: readonly Verifier[];
  serverProfile: SafetyProfile;
  /** Served without a credential; a valid one is still recognised (e.g. /healthz shows more). */
  publicPaths: readonly string[];
  /** The caller's address, the anonymous principal's client id. */
  clientIp: (request: Request) => string | undefined;
  /** Told of every refusal (failed-auth limits, audit). */
  onRefused?: (request: Request, refusal: Refusal) => void;
}

export function refusalResponse(r: Refusal): Response {
  return jsonError(r.status, r.error, r.challenge ? { 'www-authenticate': r.challenge } : {});
}

export function authPlugin(o: AuthOptions) {
  const anonymous = (request: Request): Principal => ({
    clientId: o.clientIp(request) ?? 'local',
    method: 'none',
    profile: o.serverProfile,
  });
  return new Elysia({ name: 'auth', seed: o })
    .derive({ as: 'global' }, async ({ request, path }) => {
      let auth: AuthResult;
      if (o.verifiers.length === 0) auth = { ok: true, principal: anonymous(request) };
      else if (o.publicPaths.includes(path)) {
        // Served either way, but a bad credential still counts as a failure: no free guessing here.
        const answer = await firstAnswer(request, o.verifiers);
        if (answer && !answer.ok) o.onRefused?.(request, answer);
        if (!answer?.ok) return { principal: undefined, refusal: undefined };
        auth = answer;
      } else auth = await authenticate(request, o.verifiers);
      if (!auth.ok) return { principal: undefined, refusal: auth };
      principals.set(request, auth.principal);
      return { principal: auth.principal as Principal | undefined, refusal: undefined };
    })
    .onBeforeHandle({ as: 'global' }, ({ request, refusal }) => {
      if (!refusal) return undefined;
      o.onRefused?.(request, refusal);
      // Every 401 names a scheme (RFC 9110), even when the verifier that refused gave none.
      if (refusal.status === 401 && !refusal.challenge)
        return refusalResponse({ ...refusal, challenge: challengeOf(o.verifiers, request) });
      return refusalResponse(refusal);
    });
}

export function closeVerifiers(verifiers: readonly Verifier[]): void {
  for (const v of verifiers) v.close?.();
}
