/**
 * The state a confirmation question carries to its answer, sealed: HMAC-SHA256 under a key made when
 * the process starts, bound to the tool, the exact arguments (canonical JSON), the engine and the
 * caller, valid for a few minutes and accepted once. What the client holds is readable (the plan is
 * ids it may list anyway) but cannot be forged, replayed, kept past its expiry or moved to other
 * arguments: each of those is refused, naming why.
 * Bun's own hasher and the global crypto, not node:crypto: the sealer's key is made at start-up, and
 * importing node:crypto for it would load Node's crypto module into every session (~1 MiB).
 */

/** What a sealed state is bound to: a confirmation only ever applies to this very call. */
export interface SealBinding {
  tool: string;
  args: unknown;
  engine: string;
  caller: string;
}

export type Unsealed =
  | { ok: true; plan: unknown }
  | { ok: false; reason: 'malformed' | 'forged' | 'expired' | 'replayed' | 'other call' };

/** How long the user has to answer (the question waits on a person). */
export const SEAL_TTL_MS = 5 * 60_000;
const PREFIX = 'mcpd1.';

/** JSON with object keys sorted at every depth: the same arguments always give the same text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

const randomBytes = (n: number): Buffer => crypto.getRandomValues(Buffer.alloc(n));

const digest = (b: SealBinding) =>
  new Bun.CryptoHasher('sha256')
    .update(canonicalJson([b.tool, b.engine, b.caller, canonicalJson(b.args)]))
    .digest('base64url');

interface Body {
  /** Digest of the binding. */
  b: string;
  /** Expiry, ms since the epoch. */
  x: number;
  /** Nonce: what makes each state single-use. */
  n: string;
  p?: unknown;
}

export class Sealer {
  private readonly key: Buffer;
  /** Nonces already accepted, until their expiry (then the expiry alone refuses them). */
  private readonly used = new Map<string, number>();

  constructor(
    private readonly ttlMs = SEAL_TTL_MS,
    private readonly now: () => number = Date.now,
    key: Buffer = randomBytes(32),
  ) {
    this.key = key;
  }

  /** `ttlMs`: how long this one stays valid (--confirm-timeout); the sealer's default otherwise. */
  seal(binding: SealBinding, plan?: unknown, ttlMs = this.ttlMs): string {
    const body: Body = {
      b: digest(binding),
      x: this.now() + ttlMs,
      n: randomBytes(12).toString('base64url'),
      ...(plan !== undefined && { p: plan }),
    };
    const text = Buffer.from(JSON.stringify(body)).toString('base64url');
    return `${PREFIX}${text}.${this.mac(text)}`;
  }

  /** Checks `state` for this call and spends it: a second open of the same state is `replayed`. */
  open(state: unknown, binding: SealBinding): Unsealed {
    this.forgetExpired();
    if (typeof state !== 'string' || !state.startsWith(PREFIX)) return { ok: false, reason: 'malformed' };
    const [text, mac, ...rest] = state.slice(PREFIX.length).split('.');
    if (!text || !mac || rest.length > 0) return { ok: false, reason: 'malformed' };
    const want = Buffer.from(this.mac(text));
    const got = Buffer.from(mac);
    if (want.length !== got.length || !crypto.timingSafeEqual(want, got))
      return { ok: false, reason: 'forged' };
    let body: Body;
    try {
      body = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Body;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (typeof body.x !== 'number' || typeof body.n !== 'string') return { ok: false, reason: 'malformed' };
    if (body.x <= this.now()) return { ok: false, reason: 'expired' };
    if (this.used.has(body.n)) return { ok: false, reason: 'replayed' };
    if (body.b !== digest(binding)) return { ok: false, reason: 'other call' };
    this.used.set(body.n, body.x);
    return { ok: true, plan: body.p };
  }

  private mac(text: string): string {
    return new Bun.CryptoHasher('sha256', this.key).update(`mcp-docker.confirm.${text}`).digest('base64url');
  }

  private forgetExpired(): void {
    const t = this.now();
    for (const [n, x] of this.used) if (x <= t) this.used.delete(n);
  }
}

/** The process's sealer: its key lives and dies with the process. */
export const processSealer = new Sealer();
