/**
 * SSH-signed requests: `Authorization: Signature keyId="<client id>",ts="<unix seconds>",nonce="<b64url>",sig="<SSHSIG>"`.
 * Skeleton: the real verifier lands next; the factory signature is the contract for serve.ts.
 */
import type { Log } from '../../log.ts';
import type { ProfileResolver, Verifier } from './auth-types.ts';

export interface SshVerifierOptions {
  /** OpenSSH authorized_keys file; each key's comment is the client id. */
  keysFile: string;
  /** ± window for the signed timestamp, in seconds; nonces are remembered this long. */
  maxAgeSeconds: number;
  resolve: ProfileResolver;
  log: Log;
}

export function createSshVerifier(_options: SshVerifierOptions): Verifier {
  return {
    method: 'ssh',
    verify: async (request) => {
      if (!/^Signature\s/i.test(request.headers.get('authorization') ?? '')) return undefined;
      return { ok: false, status: 401, error: 'SSH-signed requests are not available yet' };
    },
  };
}
