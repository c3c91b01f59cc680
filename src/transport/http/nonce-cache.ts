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
  /** key → expiry (ms). */
  private readonly entries = new Map<string, number>();
  /**
   * Arrival order as a queue with a moving head (Map iteration from the front is slow after many
   * deletions). An item whose key was since re-recorded with another expiry is stale and skipped.
   */
  private queue: [string, number][] = [];
  private head = 0;
  evictions = 0;

  constructor(readonly cap = 100_000) {}

  /**
   * Records `key` until `expiresAt` unless it is already there and unexpired: true when new (accept),
   * false when seen (a replay). Check and record are one step, so two concurrent copies cannot both pass.
   */
  remember(key: string, expiresAt: number, now = Date.now()): boolean {
    const seen = this.entries.get(key);
    if (seen !== undefined && seen > now) return false;
    this.prune(now);
    while (this.entries.size >= this.cap && this.dropOldest()) this.evictions++;
    this.entries.set(key, expiresAt);
    this.queue.push([key, expiresAt]);
    return true;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Drops expired entries from the oldest end; stops at the first live one (cheap, amortised). */
  private prune(now: number): void {
    while (this.head < this.queue.length) {
      const [key, expiresAt] = this.queue[this.head] as [string, number];
      if (this.entries.get(key) === expiresAt && expiresAt > now) break;
      if (this.entries.get(key) === expiresAt) this.entries.delete(key);
      this.head++;
    }
    this.compact();
  }

  /** Removes the oldest live entry; false when there is none. */
  private dropOldest(): boolean {
    while (this.head < this.queue.length) {
      const [key, expiresAt] = this.queue[this.head++] as [string, number];
      if (this.entries.get(key) === expiresAt) {
        this.entries.delete(key);
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
