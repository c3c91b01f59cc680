/**
 * Abuse limits as plain state and pure decisions (the plugin in limits.ts is a thin wrapper):
 * - tool calls (and prompt gets, resource reads) per minute per client: a token bucket of `rpm` tokens refilled at rpm/60 per second.
 *   Chosen over a sliding window because its state is two numbers, the exact wait for the next token
 *   is one division (an honest Retry-After), and a client that paused may spend its minute at once,
 *   which is how agents work (bursts of calls, then thinking);
 * - every other request per client: a generous bucket of its own, so initialize, tools/list and
 *   pings never spend the tool-call budget but a flood of them is still bounded;
 * - tool calls running at once per client, counted where calls really run (the pipeline observer);
 * - request body bytes in flight per client (declared Content-Length, or the body limit when none is
 *   declared, of POSTs not yet answered), checked before a body is read, so the memory one client's
 *   bodies hold is bounded however many it sends at once; a stalled upload holds what it declared;
 * - event streams open at once per client (GET /sse, GET /mcp), so one client cannot hold every
 *   session slot the server has;
 * - failed authentications per IP: the Nth failure within a minute locks the IP out for a minute,
 *   even with good credentials, so a token cannot be guessed by trying.
 * Every map is bounded: idle entries are swept, and past `maxKeys` the least recently seen goes, so
 * a flood of distinct addresses costs a fixed amount of memory.
 */

export type LimitName =
  | 'tool_calls_per_minute'
  | 'requests_per_minute'
  | 'concurrent_calls'
  | 'body_bytes_in_flight'
  | 'open_streams'
  | 'auth_failures';

export type Decision =
  | { ok: true }
  | { ok: false; limit: LimitName; retryAfterSeconds: number; error: string };

export interface Bucket {
  tokens: number;
  at: number;
}

/** Takes `cost` tokens from a bucket of `capacity` refilled at `perMs` tokens per millisecond. */
export function takeTokens(
  bucket: Bucket | undefined,
  now: number,
  capacity: number,
  perMs: number,
  cost = 1,
): { bucket: Bucket; ok: boolean; waitMs: number } {
  const elapsed = bucket ? Math.max(0, now - bucket.at) : 0;
  const tokens = bucket ? Math.min(capacity, bucket.tokens + elapsed * perMs) : capacity;
  const need = Math.min(cost, capacity); // a batch larger than the bucket waits for a full one
  if (tokens >= need) return { bucket: { tokens: tokens - need, at: now }, ok: true, waitMs: 0 };
  return { bucket: { tokens, at: now }, ok: false, waitMs: (need - tokens) / perMs };
}

/** Retry-After is whole seconds, never 0 (a client told "0" retries in a tight loop). */
export const retryAfterSeconds = (waitMs: number) => Math.max(1, Math.ceil(waitMs / 1000));

/** A Map that forgets its least recently used entry past `max`. */
export class BoundedMap<V> {
  private readonly map = new Map<string, V>();
  constructor(readonly max: number) {}
  get size() {
    return this.map.size;
  }
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  /** Stores and marks recently used. */
  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  /** Removes every entry for which `idle` is true. */
  sweep(idle: (value: V) => boolean): void {
    for (const [k, v] of this.map) if (idle(v)) this.map.delete(k);
  }
}

export interface LimitSettings {
  enabled: boolean;
  rpm: number;
  concurrent: number;
  authFailuresPerMinute: number;
  /** Event streams open at once per client; default 32. */
  streams?: number;
  /** The largest request body (for the bytes in flight); default 4 MiB. */
  maxBodyBytes?: number;
  /** Clients (or IPs) remembered per map; default 10,000. */
  maxKeys?: number;
}

const MINUTE = 60_000;
/** Non-tool requests per minute: ten per allowed tool call, never fewer than 600. */
export const requestsPerMinute = (rpm: number) => Math.max(600, rpm * 10);
/** Body bytes in flight per client: a full body for each running call and two more beside them. */
export const bodyBytesInFlight = (concurrent: number, maxBodyBytes: number) =>
  (concurrent + 2) * maxBodyBytes;

/** Tool calls one admitted request may still start; its slots free when they start or it is answered. */
export interface Ticket {
  n: number;
}
interface Running {
  running: number;
  /** Admitted over HTTP, not yet seen starting in the pipeline, oldest first. */
  tickets: Ticket[];
}
const pendingOf = (r: Running) => r.tickets.reduce((sum, t) => sum + t.n, 0);
interface Failures {
  count: number;
  since: number;
  lockedUntil: number;
}

export class Limiter {
  private readonly calls: BoundedMap<Bucket>;
  private readonly requests: BoundedMap<Bucket>;
  private readonly running: BoundedMap<Running>;
  private readonly failures: BoundedMap<Failures>;
  /** Not bounded by eviction (an open stream must be able to release its slot); one entry per client with a stream open. */
  private readonly streams = new Map<string, number>();
  /** Likewise for POSTs in flight. */
  private readonly posts = new Map<string, number>();
  private lastSweep = 0;

  constructor(
    readonly settings: LimitSettings,
    private readonly now: () => number = Date.now,
  ) {
    const max = settings.maxKeys ?? 10_000;
    this.calls = new BoundedMap(max);
    this.requests = new BoundedMap(max);
    this.running = new BoundedMap(max);
    this.failures = new BoundedMap(max);
  }

  /** Before authentication: is this IP locked out for failing to authenticate? (Always on.) */
  checkAuthLockout(ip: string): Decision {
    const f = this.failures.get(ip);
    const now = this.now();
    if (!f || f.lockedUntil <= now) return { ok: true };
    const seconds = retryAfterSeconds(f.lockedUntil - now);
    return refuse(
      'auth_failures',
      seconds,
      `too many failed authentications from your address; wait ${seconds}s, then retry with a valid credential`,
    );
  }

  noteAuthFailure(ip: string): void {
    const now = this.now();
    this.maybeSweep(now);
    const prior = this.failures.get(ip);
    const f = prior && now - prior.since < MINUTE ? prior : { count: 0, since: now, lockedUntil: 0 };
    f.count++;
    if (f.count >= this.settings.authFailuresPerMinute) f.lockedUntil = now + MINUTE;
    this.failures.set(ip, f);
  }

  /**
   * Admits one request from `key` carrying `toolCalls` tools/call messages. A success with tool
   * calls holds a ticket: pass it to `settle()` once the request has been answered.
   */
  admit(key: string, toolCalls: number): Decision & { ticket?: Ticket } {
    const d = this.admitRequest(key);
    return d.ok ? this.admitCalls(key, toolCalls) : d;
  }

  /** The part of `admit` that needs no body: the request budget. */
  admitRequest(key: string): Decision {
    const s = this.settings;
    if (!s.enabled) return { ok: true };
    const now = this.now();
    this.maybeSweep(now);
    const perMinute = requestsPerMinute(s.rpm);
    const req = takeTokens(this.requests.get(key), now, perMinute, perMinute / MINUTE);
    this.requests.set(key, req.bucket);
    if (req.ok) return { ok: true };
    const seconds = retryAfterSeconds(req.waitMs);
    return refuse(
      'requests_per_minute',
      seconds,
      `more than ${perMinute} requests a minute; retry in ${seconds}s`,
    );
  }

  /** The part of `admit` that needs the body: `toolCalls` calls against concurrency and the call budget. */
  admitCalls(key: string, toolCalls: number): Decision & { ticket?: Ticket } {
    const s = this.settings;
    if (!s.enabled || toolCalls === 0) return { ok: true };
    const now = this.now();
    const r = this.running.get(key) ?? { running: 0, tickets: [] };
    if (r.running + pendingOf(r) + toolCalls > s.concurrent)
      return refuse(
        'concurrent_calls',
        1,
        `${s.concurrent} tool call(s) already running for this client (the limit); retry when one finishes`,
      );
    const call = takeTokens(this.calls.get(key), now, s.rpm, s.rpm / MINUTE, toolCalls);
    this.calls.set(key, call.bucket);
    if (!call.ok) {
      const seconds = retryAfterSeconds(call.waitMs);
      return refuse(
        'tool_calls_per_minute',
        seconds,
        `more than ${s.rpm} tool calls a minute; retry in ${seconds}s`,
      );
    }
    const ticket = { n: toolCalls };
    r.tickets.push(ticket);
    this.running.set(key, r);
    return { ok: true, ticket };
  }

  /** The HTTP answer went out: calls it admitted that never started no longer hold a slot. */
  settle(key: string, ticket: Ticket): void {
    ticket.n = 0;
    const r = this.running.get(key);
    if (r) r.tickets = r.tickets.filter((t) => t.n > 0);
  }

  /** A tool call started in the pipeline for `key`; the returned function ends it (idempotent). */
  callStarted(key: string): () => void {
    const r = this.running.get(key) ?? { running: 0, tickets: [] };
    r.running++;
    // The oldest admission gives up its slot: the call now counts as running instead.
    const t = r.tickets.find((x) => x.n > 0);
    if (t) t.n--;
    r.tickets = r.tickets.filter((x) => x.n > 0);
    this.running.set(key, r);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      r.running = Math.max(0, r.running - 1);
    };
  }

  /** Opens an event stream for `key`; on success, call `release` once when it ends. */
  openStream(key: string): Decision & { release?: () => void } {
    if (!this.settings.enabled) return { ok: true };
    const max = this.settings.streams ?? 32;
    return hold(this.streams, key, max, () =>
      refuse(
        'open_streams',
        5,
        `${max} event streams already open for this client (the limit); close unused sessions and retry`,
      ),
    );
  }

  /**
   * Before a POST body is read: `bytes` more in flight for `key` (what it declared, else the body
   * limit); call `release` once it is answered.
   */
  openPost(key: string, bytes: number): Decision & { release?: () => void } {
    if (!this.settings.enabled) return { ok: true };
    const max = bodyBytesInFlight(this.settings.concurrent, this.settings.maxBodyBytes ?? 4_194_304);
    return hold(
      this.posts,
      key,
      max,
      () =>
        refuse(
          'body_bytes_in_flight',
          1,
          `request bodies of more than ${max} bytes in flight for this client (the limit: the body limit × (concurrent calls + 2)); retry when one is answered`,
        ),
      bytes,
    );
  }

  /** How many keys each map holds (for tests of the memory bound). */
  sizes() {
    return {
      calls: this.calls.size,
      requests: this.requests.size,
      running: this.running.size,
      failures: this.failures.size,
      streams: this.streams.size,
      posts: this.posts.size,
    };
  }

  private maybeSweep(now: number) {
    if (now - this.lastSweep < MINUTE) return;
    this.lastSweep = now;
    const s = this.settings;
    // A bucket refilled to full is the same as no bucket; a failure window that ended is forgotten.
    this.calls.sweep((b) => b.tokens + (now - b.at) * (s.rpm / MINUTE) >= s.rpm);
    const perMinute = requestsPerMinute(s.rpm);
    this.requests.sweep((b) => b.tokens + (now - b.at) * (perMinute / MINUTE) >= perMinute);
    this.running.sweep((r) => r.running === 0 && r.tickets.length === 0);
    this.failures.sweep((f) => f.lockedUntil <= now && now - f.since >= MINUTE);
  }
}

/** Takes `weight` of the `max` that `key` may hold in `counts`; `release` gives it back once. */
function hold(
  counts: Map<string, number>,
  key: string,
  max: number,
  refused: () => Decision,
  weight = 1,
): Decision & { release?: () => void } {
  const open = counts.get(key) ?? 0;
  if (open + weight > max) return refused();
  counts.set(key, open + weight);
  let released = false;
  return {
    ok: true,
    release: () => {
      if (released) return;
      released = true;
      const n = (counts.get(key) ?? weight) - weight;
      if (n > 0) counts.set(key, n);
      else counts.delete(key);
    },
  };
}

const refuse = (limit: LimitName, retryAfterSeconds: number, error: string): Decision => ({
  ok: false,
  limit,
  retryAfterSeconds,
  error,
});

/** The 429 every limit answers with: which limit, when to retry, as header and JSON. */
export function tooMany(d: Extract<Decision, { ok: false }>): Response {
  return Response.json(
    { error: d.error, limit: d.limit, retry_after_seconds: d.retryAfterSeconds },
    { status: 429, headers: { 'retry-after': String(d.retryAfterSeconds) } },
  );
}

/** Requests that run through the pipeline and spend the tool-call buckets. */
const CALL_METHODS: ReadonlySet<unknown> = new Set(['tools/call', 'prompts/get', 'resources/read']);

/**
 * How many calls a parsed JSON-RPC body holds (a batch may hold several): `tools/call`, `prompts/get` and
 * `resources/read` alike, so reading logs through a resource costs what the logs tool does.
 */
export function countToolCalls(body: unknown): number {
  // From the parsed body: the method as the SDK will read it, whatever JSON escapes spelled it.
  const messages = Array.isArray(body) ? body : [body];
  return messages.filter((m) => CALL_METHODS.has((m as { method?: unknown } | null)?.method)).length;
}
