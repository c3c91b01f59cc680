/**
 * A loopback stand-in for an engine's endpoint that misbehaves on demand: it forwards to a real
 * endpoint (a unix socket or a 127.0.0.1 port), optionally after a delay per connection, or accepts
 * and stays silent, or accepts and closes; `cut()` drops every live connection while it keeps
 * accepting. Listens on a unix socket or on a free 127.0.0.1 port; traffic stays on loopback.
 */
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';

export type FaultMode = 'forward' | 'silent' | 'close';

/** A unix socket path, or a port on 127.0.0.1. */
export type Endpoint = string | number;

export interface FaultyEndpoint {
  /** unix://PATH or the port, as listened on. */
  url: string;
  port?: number;
  mode: FaultMode;
  /** Where 'forward' goes (may be changed between connections). */
  target?: Endpoint;
  /** Delay before a new connection is forwarded. */
  delayMs: number;
  /** Connections accepted so far. */
  accepted: number;
  /** Drops every live connection, both sides. */
  cut(): void;
  close(): Promise<void>;
}

const dial = (to: Endpoint): Socket =>
  typeof to === 'number' ? netConnect(to, '127.0.0.1') : netConnect(to);

/** Listens on `listen` (a unix socket path, or 0 for a free 127.0.0.1 port). */
export async function faultyEndpoint(
  listen: Endpoint,
  opts: { mode?: FaultMode; target?: Endpoint; delayMs?: number } = {},
): Promise<FaultyEndpoint> {
  const live = new Set<Socket>();
  const track = (s: Socket) => {
    live.add(s);
    s.on('error', () => {});
    s.on('close', () => live.delete(s));
  };
  const server: Server = createServer((client) => {
    ep.accepted++;
    track(client);
    if (ep.mode === 'close') {
      client.destroy();
      return;
    }
    if (ep.mode === 'silent') {
      client.on('data', () => {});
      return;
    }
    client.pause();
    const target = ep.target;
    setTimeout(() => {
      if (client.destroyed || target === undefined) return client.destroy();
      const upstream = dial(target);
      track(upstream);
      upstream.on('connect', () => {
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      upstream.on('close', end);
      client.on('close', end);
    }, ep.delayMs);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (typeof listen === 'number') server.listen(listen, '127.0.0.1', resolve);
    else server.listen(listen, resolve);
  });
  const port = typeof listen === 'number' ? (server.address() as { port: number }).port : undefined;
  const ep: FaultyEndpoint = {
    url: port === undefined ? `unix://${listen}` : String(port),
    ...(port !== undefined && { port }),
    mode: opts.mode ?? 'forward',
    ...(opts.target !== undefined && { target: opts.target }),
    delayMs: opts.delayMs ?? 0,
    accepted: 0,
    cut() {
      for (const s of [...live]) s.destroy();
    },
    close() {
      ep.cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return ep;
}
