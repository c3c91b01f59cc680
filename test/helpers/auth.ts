/** Assertions shared by the HTTP authentication tests. */
import type { AuthResult } from '../../src/transport/http/auth-types.ts';

/** The refusal a verifier answered; anything else (acceptance, no answer) throws, naming what came back. */
export const refused = (r: AuthResult | undefined) => {
  if (r === undefined || r.ok) throw new Error(`expected a refusal, got ${JSON.stringify(r)}`);
  return r;
};
