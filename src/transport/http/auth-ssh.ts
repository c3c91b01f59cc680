/**
 * SSH-signed requests. The client signs `client_id|timestamp|nonce` (timestamp in unix seconds, nonce
 * ≥ 16 random bytes in base64url) as an SSHSIG in namespace `mcp-docker` — what `ssh-keygen -Y sign
 * -n mcp-docker` makes — and sends, on every request:
 *
 *   Authorization: Signature keyId="<client id>",ts="<unix seconds>",nonce="<nonce>",sig="<base64 SSHSIG>"
 *
 * Checks, in this order: header shape → timestamp within ±maxAge → a key of that client signed it →
 * signature verifies → only then the nonce is recorded, and one seen within the window is a replay.
 * A stale timestamp, unknown client, unknown key and bad signature give the client one message (so
 * no answer tells which client ids exist); the audit detail says which.
 */
import type { Log } from '../../log.ts';
import type { AuthResult, ProfileResolver, Verifier } from './auth-types.ts';
import { NonceCache } from './nonce-cache.ts';
import { KeyStore, validClientId } from './ssh-keys.ts';
import { parseSshSig, type SshSig, verifySshSig } from './sshsig.ts';

export interface SshVerifierOptions {
  /** OpenSSH authorized_keys file; each key's comment is the client id. */
  keysFile: string;
  /** ± window for the signed timestamp, in seconds; nonces are remembered this long. */
  maxAgeSeconds: number;
  resolve: ProfileResolver;
  log: Log;
  /** Nonce cache bounds: in all, and per client (see nonce-cache.ts). */
  maxNonces?: number;
  maxNoncesPerClient?: number;
  /** For tests: the clock, in ms. */
  now?: () => number;
}

export const SSH_CHALLENGE = 'Signature realm="mcp-docker"';

export interface SignatureParams {
  keyId: string;
  ts: number;
  nonce: string;
  sig: string;
}

const PARAM = /^\s*([A-Za-z]+)="([^"]*)"\s*(?:,|$)/;

/** Parses the Signature header; `undefined` when the scheme is not ours, a string when it is malformed. */
export function parseSignatureHeader(value: string | null): SignatureParams | string | undefined {
  const m = /^Signature\s+(.*)$/is.exec(value ?? '');
  if (!m) return undefined;
  const params = new Map<string, string>();
  let rest = m[1] ?? '';
  while (rest.trim() !== '') {
    const p = PARAM.exec(rest);
    if (!p?.[1] || params.has(p[1])) return 'expected keyId="…",ts="…",nonce="…",sig="…", each once';
    params.set(p[1], p[2] ?? '');
    rest = rest.slice(p[0].length);
  }
  const keyId = params.get('keyId') ?? '';
  const ts = params.get('ts') ?? '';
  const nonce = params.get('nonce') ?? '';
  const sig = params.get('sig') ?? '';
  if (keyId === '' || !validClientId(keyId)) return 'keyId must be the client id (no quotes or |)';
  if (!/^\d{1,12}$/.test(ts)) return 'ts must be the time in unix seconds';
  if (!/^[A-Za-z0-9_-]{22,128}$/.test(nonce)) return 'nonce must be at least 16 random bytes in base64url';
  if (sig === '' || sig.length > 8192) return 'sig must be a base64 SSHSIG signature';
  return { keyId, ts: Number(ts), nonce, sig };
}

/** What the client signs. */
export const signedMessage = (p: { keyId: string; ts: number; nonce: string }) =>
  `${p.keyId}|${p.ts}|${p.nonce}`;

export function createSshVerifier(options: SshVerifierOptions): Verifier {
  const { maxAgeSeconds, resolve, log } = options;
  const now = options.now ?? Date.now;
  const keys = new KeyStore(options.keysFile, log);
  const nonces = new NonceCache(options.maxNonces, options.maxNoncesPerClient);
  let warnedAt = Number.NEGATIVE_INFINITY;
  const refuse = (error: string, detail: string, claimedClientId?: string): AuthResult => ({
    ok: false,
    status: 401,
    error,
    challenge: SSH_CHALLENGE,
    detail,
    claimedClientId,
  });
  // One answer for every refusal before the signature verifies (unknown id, key not listed, bad
  // signature, stale timestamp); the audit detail and the log say which.
  const NOT_ACCEPTED = `SSH signature not accepted: sign "client_id|ts|nonce" in namespace mcp-docker with a key listed for this client id, with ts the current unix time (±${maxAgeSeconds} s; check the client clock)`;

  return {
    method: 'ssh',
    challenge: SSH_CHALLENGE,
    async verify(request) {
      const p = parseSignatureHeader(request.headers.get('authorization'));
      if (p === undefined) return undefined;
      if (typeof p === 'string') return refuse(`malformed Signature header: ${p}`, 'malformed header');
      const nowMs = now();
      // The timestamp first: it does not depend on the id, so no answer tells which ids exist.
      if (Math.abs(nowMs / 1000 - p.ts) > maxAgeSeconds)
        return refuse(
          NOT_ACCEPTED,
          `ssh: ${p.keyId} ts ${p.ts} is ${Math.round(nowMs / 1000 - p.ts)} s off`,
          p.keyId,
        );
      const clientKeys = keys.keysFor(p.keyId, nowMs);
      if (clientKeys.length === 0) return refuse(NOT_ACCEPTED, `ssh: no key for client ${p.keyId}`, p.keyId);
      let sig: SshSig;
      try {
        sig = parseSshSig(p.sig);
      } catch (e) {
        return refuse(
          NOT_ACCEPTED,
          `ssh: ${p.keyId}: ${e instanceof Error ? e.message : 'bad signature'}`,
          p.keyId,
        );
      }
      const key = clientKeys.find((k) => k.blob.equals(sig.publicKey));
      if (!key) return refuse(NOT_ACCEPTED, `ssh: ${p.keyId} signed with a key not listed for it`, p.keyId);
      if (!verifySshSig(sig, signedMessage(p), key.key, key.type))
        return refuse(
          NOT_ACCEPTED,
          `ssh: ${p.keyId} bad ${sig.sigAlg} signature (key line ${key.line})`,
          p.keyId,
        );
      // Only a verified request reaches the nonce cache, so forged requests cannot fill it.
      const evicted = nonces.evictions;
      const fresh = nonces.remember(p.keyId, p.nonce, (p.ts + maxAgeSeconds) * 1000, nowMs);
      if (nonces.evictions !== evicted && nonces.lastEvicted && nowMs - warnedAt > 60_000) {
        warnedAt = nowMs;
        const { clientId, why } = nonces.lastEvicted;
        log.warn(
          why === 'quota'
            ? `SSH nonces: client ${clientId} signed more than ${nonces.perClient} requests within the window; evicting its oldest nonces (its own replay protection weakens, no one else's)`
            : `SSH nonce cache full (${nonces.cap} entries): evicting the oldest nonces of ${clientId}, the client holding the most`,
        );
      }
      if (!fresh)
        return refuse(
          'nonce already used: sign every request with a fresh nonce',
          `ssh: ${p.keyId} replayed nonce`,
          p.keyId,
        );
      const profile = resolve(p.keyId);
      if (!profile)
        return {
          ok: false,
          status: 403,
          error: `client ${p.keyId} has no access profile on this server`,
          detail: `ssh: ${p.keyId} verified but unknown to the profile resolver`,
          claimedClientId: p.keyId,
        };
      return { ok: true, principal: { clientId: p.keyId, method: 'ssh', profile } };
    },
  };
}
