/**
 * Resource subscriptions of one connection: one watcher per subscribed URI, started when the first
 * subscription names it and stopped when the last goes (or the connection closes), with update
 * notifications throttled to one per second per URI.
 *
 * Two protocol eras feed it. 2025: `resources/subscribe` / `resources/unsubscribe` reach the server.
 * 2026-07-28: the client opens `subscriptions/listen` with a filter, which the SDK's serving entry
 * answers before the server sees it; `ListenTap` wraps the transport to learn the honored filters.
 */
import type { JSONRPCMessage, Transport, TransportSendOptions } from '@modelcontextprotocol/server';
import { ToolError } from '../core/errors.ts';

export const MIN_NOTIFY_INTERVAL_MS = 1000;
/** Each watcher holds an engine stream or poll: a connection gets this many at most. */
export const MAX_WATCHERS = 64;

/** Starts watching one URI; returns a stop function. Reports changes through `changed`. */
export type StartWatch = (uri: string, changed: () => void) => (() => void) | undefined;

interface Watcher {
  stop: () => void;
  last: number;
  timer?: ReturnType<typeof setTimeout>;
}

export class Subscriptions {
  private readonly direct = new Set<string>();
  private readonly listens = new Map<string | number, Set<string>>();
  private readonly watchers = new Map<string, Watcher>();
  private closed = false;

  constructor(
    private readonly start: StartWatch,
    private readonly notify: (uri: string) => void,
  ) {}

  /** Throws a conflict when the connection already watches MAX_WATCHERS other URIs. */
  subscribe(uri: string): void {
    if (!this.watchers.has(uri) && this.watchers.size >= MAX_WATCHERS)
      throw new ToolError(
        'conflict',
        `too many resource subscriptions on this connection (${MAX_WATCHERS})`,
        {
          hint: 'Unsubscribe from some first.',
        },
      );
    this.direct.add(uri);
    this.reconcile();
  }

  unsubscribe(uri: string): void {
    this.direct.delete(uri);
    this.reconcile();
  }

  /** A `subscriptions/listen` stream was acknowledged with these resource URIs. */
  listen(id: string | number, uris: readonly string[]): void {
    this.listens.set(id, new Set(uris));
    this.reconcile();
  }

  unlisten(id: string | number): void {
    if (this.listens.delete(id)) this.reconcile();
  }

  /** URIs being watched now (for tests and diagnostics). */
  watching(): string[] {
    return [...this.watchers.keys()].sort();
  }

  close(): void {
    this.closed = true;
    this.direct.clear();
    this.listens.clear();
    this.reconcile();
  }

  private wanted(): Set<string> {
    const all = new Set(this.direct);
    for (const uris of this.listens.values()) for (const u of uris) all.add(u);
    return all;
  }

  private reconcile(): void {
    const wanted = this.closed ? new Set<string>() : this.wanted();
    for (const [uri, w] of this.watchers) {
      if (wanted.has(uri)) continue;
      clearTimeout(w.timer);
      w.stop();
      this.watchers.delete(uri);
    }
    for (const uri of wanted) {
      if (this.watchers.has(uri)) continue;
      if (this.watchers.size >= MAX_WATCHERS) break; // listen filters past the cap get no updates
      const w: Watcher = { stop: () => {}, last: 0 };
      const stop = this.start(uri, () => this.changed(uri, w));
      if (!stop) continue; // not a watchable resource: nothing to deliver
      w.stop = stop;
      this.watchers.set(uri, w);
    }
  }

  /** Leading edge now, then at most one trailing notification per interval. */
  private changed(uri: string, w: Watcher): void {
    if (this.watchers.get(uri) !== w || w.timer) return;
    const wait = w.last + MIN_NOTIFY_INTERVAL_MS - Date.now();
    const fire = () => {
      w.timer = undefined;
      if (this.watchers.get(uri) !== w) return;
      w.last = Date.now();
      this.notify(uri);
    };
    if (wait <= 0) fire();
    else w.timer = setTimeout(fire, wait);
  }
}

/** Receives the listen subscriptions a tap sees on the wire. */
export interface ListenSink {
  listen(id: string | number, uris: readonly string[]): void;
  unlisten(id: string | number): void;
}

const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

type Message = {
  method?: string;
  id?: string | number;
  params?: {
    requestId?: string | number;
    notifications?: { resourceSubscriptions?: string[] };
    _meta?: Record<string, unknown>;
  };
  result?: { _meta?: Record<string, unknown> };
};

/**
 * A transport wrapper that watches the wire for 2026-era listen subscriptions: the outbound
 * `notifications/subscriptions/acknowledged` carries the honored filter and the subscription id;
 * an inbound `notifications/cancelled` for that id, or the outbound graceful-close result, ends it.
 * It changes nothing that passes through.
 */
export class ListenTap implements Transport {
  private readonly sinks = new Set<ListenSink>();
  private readonly open = new Set<string | number>();
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  setProtocolVersion?: (version: string) => void;
  setSupportedProtocolVersions?: (versions: string[]) => void;

  constructor(private readonly inner: Transport) {
    if (inner.setProtocolVersion) this.setProtocolVersion = (v) => inner.setProtocolVersion?.(v);
    if (inner.setSupportedProtocolVersions)
      this.setSupportedProtocolVersions = (v) => inner.setSupportedProtocolVersions?.(v);
  }

  get sessionId() {
    return this.inner.sessionId;
  }

  /** Adds a sink; returns its removal. */
  attach(sink: ListenSink): () => void {
    this.sinks.add(sink);
    return () => this.sinks.delete(sink);
  }

  start(): Promise<void> {
    this.inner.onmessage = (message, extra) => {
      this.inbound(message as Message);
      this.onmessage?.(message, extra);
    };
    this.inner.onclose = () => {
      for (const id of this.open) for (const s of this.sinks) s.unlisten(id);
      this.open.clear();
      this.onclose?.();
    };
    this.inner.onerror = (e) => this.onerror?.(e);
    return this.inner.start();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    this.outbound(message as Message);
    return this.inner.send(message, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private inbound(m: Message): void {
    if (m.method !== 'notifications/cancelled') return;
    const id = m.params?.requestId;
    if (id !== undefined && this.open.has(id)) this.end(id);
  }

  private outbound(m: Message): void {
    if (m.method === 'notifications/subscriptions/acknowledged') {
      const id = m.params?._meta?.[SUBSCRIPTION_ID] as string | number | undefined;
      if (id === undefined) return;
      this.open.add(id);
      const uris = m.params?.notifications?.resourceSubscriptions ?? [];
      for (const s of this.sinks) s.listen(id, uris);
      return;
    }
    const closing = m.result?._meta?.[SUBSCRIPTION_ID] as string | number | undefined;
    if (m.method === undefined && closing !== undefined && this.open.has(closing)) this.end(closing);
  }

  private end(id: string | number): void {
    this.open.delete(id);
    for (const s of this.sinks) s.unlisten(id);
  }
}
