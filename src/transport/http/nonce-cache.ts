/**
 * Nonces of verified SSH-signed requests, remembered until their timestamp leaves the window (after
 * that the timestamp check refuses a replay on its own). Only requests with a valid signature get
 * here, so filling the cache takes a valid key — but authentication runs before the rate limit, so a
 * key holder's requests record nonces even when they are then refused with 429: the rate limit does
 * not bound what one client holds. Two bounds do:
 * - a quota per client (default 10,000): past it, that client's own oldest nonce is evicted, so a
 *   flooding client only weakens its own replay protection, never another's;
 * - a cap on the total (default 100,000, ~15 MB): past it, the oldest nonce of the client holding
 *   the most is evicted.
 * Eviction, not refusal: refusing new nonces would let one key holder lock every client out, while an
 * evicted nonce can be replayed only by someone who captured that request (through TLS) and only
 * while its timestamp is in the window. Sizing: a nonce lives at most 2 × window (a timestamp dated
 * a window ahead), so a client within the default request limit (600/min) and window (±300 s) holds
 * at most 600 × 10 = 6,000 — under the quota — and the cap covers 16 such clients before the
 * heaviest holder loses any. Evictions are counted, with the client they hit, so they can be logged.
 */

/** One client's nonces: nonce → expiry (ms), and arrival order as a queue with a moving head. */
class ClientNonces {
  readonly entries = new Map<string, number>();
  /** An item whose nonce was since re-recorded with another expiry is stale and skipped. */
  private queue: [string, number][] = [];
  private head = 0;

  get size(): number {
    return this.entries.size;
  }

  seen(nonce: string, now: number): boolean {
    const expiry = this.entries.get(nonce);
    return expiry !== undefined && expiry > now;
  }

  add(nonce: string, expiresAt: number): void {
    this.entries.set(nonce, expiresAt);
    this.queue.push([nonce, expiresAt]);
  }

  /** Drops expired entries from the oldest end, stopping at the first live one (cheap, amortised). */
  prune(now: number): void {
    while (this.head < this.queue.length) {
      const [nonce, expiresAt] = this.queue[this.head] as [string, number];
      const current = this.entries.get(nonce) === expiresAt;
      if (current && expiresAt > now) break;
      if (current) this.entries.delete(nonce);
      this.head++;
    }
    this.compact();
  }

  /** Removes the oldest live entry; false when there is none. */
  dropOldest(): boolean {
    while (this.head < this.queue.length) {
      const [nonce, expiresAt] = this.queue[this.head++] as [string, number];
      if (this.entries.get(nonce) === expiresAt) {
        this.entries.delete(nonce);
        this.compact();
        return true;
      }
    }
    return false;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

export class NonceCache {
  private readonly clients = new Map<string, ClientNonces>();
  private total = 0;
  /** Nonces evicted before their expiry, and the client whose nonce went last. */
  evictions = 0;
  lastEvicted?: { clientId: string; why: 'quota' | 'cap' };

  constructor(
    readonly cap = 100_000,
    readonly perClient = 10_000,
  ) {}

  /**
   * Records `nonce` for `clientId` until `expiresAt` unless it is there and unexpired: true when new
   * (accept), false when seen (a replay). Check and record are one step, so two concurrent copies
   * cannot both pass.
   */
  remember(clientId: string, nonce: string, expiresAt: number, now = Date.now()): boolean {
    const known = this.clients.get(clientId);
    if (known?.seen(nonce, now)) return false;
    const mine = known ?? new ClientNonces();
    if (!known) this.clients.set(clientId, mine);
    this.measure(mine, () => mine.prune(now));
    while (mine.size >= this.perClient && this.evict(clientId, mine, 'quota'));
    if (this.total >= this.cap) {
      for (const other of this.clients.values()) this.measure(other, () => other.prune(now));
      while (this.total >= this.cap && this.evictHeaviest());
    }
    this.measure(mine, () => mine.add(nonce, expiresAt));
    return true;
  }

  get size(): number {
    return this.total;
  }

  /** Nonces held for one client. */
  heldBy(clientId: string): number {
    return this.clients.get(clientId)?.size ?? 0;
  }

  /** Runs `change` on one client's nonces, keeping the total right. */
  private measure(nonces: ClientNonces, change: () => unknown): void {
    const before = nonces.size;
    change();
    this.total += nonces.size - before;
  }

  private evict(clientId: string, nonces: ClientNonces, why: 'quota' | 'cap'): boolean {
    const before = nonces.size;
    if (!nonces.dropOldest()) return false;
    this.total -= before - nonces.size;
    this.evictions++;
    this.lastEvicted = { clientId, why };
    return true;
  }

  private evictHeaviest(): boolean {
    let heaviest: [string, ClientNonces] | undefined;
    for (const entry of this.clients) {
      if (entry[1].size === 0) this.clients.delete(entry[0]);
      else if (!heaviest || entry[1].size > heaviest[1].size) heaviest = entry;
    }
    return heaviest !== undefined && this.evict(heaviest[0], heaviest[1], 'cap');
  }
}
