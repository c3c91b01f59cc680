/**
 * Nonces of verified SSH-signed requests, remembered until their timestamp leaves the window (after
 * that the timestamp check refuses a replay on its own). Bounded: at the cap the oldest entry is
 * evicted rather than new nonces refused — refusing would let one key holder lock out every client,
 * while an evicted nonce can be replayed only by someone who captured it (through TLS) and only while
 * its timestamp is still in the window. Only requests with a valid signature get here, so filling the
 * cache takes a valid key, and the per-client rate limit bounds how fast one key can: size the cap for
 * clients × requests per minute × window minutes (the default, 100 000, is ~170 clients at 60/min
 * over a ±5 minute window). An eviction is counted so it can be logged.
 */
export class NonceCache {
  /** key → expiry (ms); Map keeps insertion order, so the first entries are the oldest. */
  private readonly entries = new Map<string, number>();
  evictions = 0;

  constructor(readonly cap = 100_000) {}

  /**
   * Records `key` until `expiresAt` unless it is already there and unexpired: true when new (accept),
   * false when seen (a replay). Check and record are one step, so two concurrent copies cannot both pass.
   */
  remember(key: string, expiresAt: number, now = Date.now()): boolean {
    const seen = this.entries.get(key);
    if (seen !== undefined && seen > now) return false;
    this.entries.delete(key);
    this.prune(now);
    while (this.entries.size >= this.cap) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.evictions++;
    }
    this.entries.set(key, expiresAt);
    return true;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops expired entries from the oldest end; stops at the first live one (cheap, amortised). */
  private prune(now: number): void {
    for (const [key, expiresAt] of this.entries) {
      if (expiresAt > now) return;
      this.entries.delete(key);
    }
  }
}
