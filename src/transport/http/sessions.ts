/**
 * Sessions of the stateful transports (initialize-era /mcp, legacy /sse), each owned by the client
 * that opened it and closed once idle. Ids of expired sessions are remembered (bounded) so a client
 * that comes back is told to initialize again rather than that the id never existed.
 */
import { InFlight, settleWithin } from './inflight.ts';

export interface IdleOptions {
  /** Closed when no call has arrived or run for this long. */
  idleMs: number;
  now?: () => number;
}

export interface Session<T> {
  transport: T;
  /** Client id and profile of the principal that opened it. */
  owner: string;
  /** Calls still being answered: a session is never idle mid-call. */
  calls: InFlight;
  touch(): void;
}

const EXPIRED_REMEMBERED = 10_000;
/** How long `closeAll` waits for the transports; they are dropped either way. */
const CLOSE_WAIT_MS = 500;

/** The client an owner key names (owner = client id, a newline, its profile's key: see http.ts). */
export const clientOfOwner = (owner: string): string => owner.split('\n', 1)[0] ?? owner;

/** The answer when a client already holds `max` sessions: which limit, and how to free one. */
export function tooManySessions(max: number, howToClose: string): Response {
  return Response.json(
    {
      error: `${max} sessions already open for this client (the limit, --rate-limit-sessions); ${howToClose}, or wait for idle ones to expire, and retry`,
      limit: 'open_sessions',
      retry_after_seconds: 5,
    },
    { status: 429, headers: { 'retry-after': '5' } },
  );
}

/** A session slot of one client, taken before the session exists (see `claim`). */
export interface Claim {
  /** Gives the slot back if no session was added with it; once one was, its end frees the slot. */
  release(): void;
}

/**
 * Sessions per client, those being opened included, and in all: one client cannot hold every slot.
 * Shared by the initialize-era /mcp and the legacy /sse tables, so one quota and one total cover both.
 */
export class SessionSlots {
  private readonly perClient = new Map<string, number>();
  private held = 0;

  /** Slots held by every client. */
  get total(): number {
    return this.held;
  }

  claim(client: string, max: number): Claim | undefined {
    const held = this.perClient.get(client) ?? 0;
    if (held >= max) return undefined;
    this.perClient.set(client, held + 1);
    this.held++;
    let freed = false;
    return {
      release: () => {
        if (freed) return;
        freed = true;
        this.held--;
        const n = (this.perClient.get(client) ?? 1) - 1;
        if (n > 0) this.perClient.set(client, n);
        else this.perClient.delete(client);
      },
    };
  }
}

export class SessionTable<T extends { close(): Promise<void> }> {
  private readonly live = new Map<string, Session<T> & { lastSeen: number; claim: Claim }>();
  private readonly expired = new Set<string>();
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly now: () => number;

  constructor(
    private readonly o: IdleOptions,
    /** Extra "still working" test, e.g. answers owed on an SSE stream. */
    private readonly busy: (transport: T) => boolean = () => false,
    /** Shared with the other transport's table (see SessionSlots). */
    private readonly slots: SessionSlots = new SessionSlots(),
  ) {
    this.now = o.now ?? Date.now;
    this.timer = setInterval(() => this.sweep(), Math.min(Math.max(o.idleMs / 4, 250), 30_000));
    this.timer.unref?.();
  }

  get size(): number {
    return this.live.size;
  }

  /**
   * A slot for a session `client` is about to open, or undefined when it already holds `max` (open or
   * opening, in every table sharing these slots). Taken before the session exists, so parallel opens
   * cannot all slip under the quota.
   */
  claim(client: string, max: number): Claim | undefined {
    return this.slots.claim(client, max);
  }

  /** Adds a session in the slot `claim` took; the slot is freed when the session goes. */
  add(id: string, transport: T, owner: string, claim: Claim): void {
    const entry = {
      transport,
      owner,
      claim,
      calls: new InFlight(),
      lastSeen: this.now(),
      touch: () => {
        entry.lastSeen = this.now();
      },
    };
    this.live.set(id, entry);
  }

  has(id: string): boolean {
    return this.live.has(id);
  }

  /** Forgets a session that closed by itself (DELETE, stream gone). */
  delete(id: string): void {
    this.live.get(id)?.claim.release();
    this.live.delete(id);
  }

  /** The session for this owner (touched), 'expired', or undefined (unknown or someone else's). */
  use(id: string, owner: string): Session<T> | 'expired' | undefined {
    const s = this.live.get(id);
    if (!s) return this.expired.has(id) ? 'expired' : undefined;
    if (s.owner !== owner) return undefined;
    s.touch();
    return s;
  }

  /** Closes sessions idle past the limit; returns how many. */
  sweep(): number {
    const cutoff = this.now() - this.o.idleMs;
    let n = 0;
    for (const [id, s] of this.live) {
      if (s.lastSeen > cutoff || s.calls.count > 0 || this.busy(s.transport)) continue;
      this.live.delete(id);
      s.claim.release();
      this.expired.add(id);
      if (this.expired.size > EXPIRED_REMEMBERED)
        this.expired.delete(this.expired.values().next().value as string);
      void s.transport.close().catch(() => {});
      n++;
    }
    return n;
  }

  /** Closes every session; resolves once they closed, or after CLOSE_WAIT_MS (shutdown must not hang on one). */
  async closeAll(): Promise<void> {
    clearInterval(this.timer);
    const all = [...this.live.values()];
    this.live.clear();
    for (const s of all) s.claim.release();
    await settleWithin(CLOSE_WAIT_MS, Promise.allSettled(all.map((s) => s.transport.close())));
  }
}
