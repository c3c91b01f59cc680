/**
 * A loopback TCP proxy that can pass traffic through or stall it: in 'stall' mode it accepts
 * connections and never answers (a registry that hangs); in 'pass' mode it forwards to `target`.
 * Bound to 127.0.0.1 only, so the engine treats it as an insecure (plain HTTP) registry.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface StallProxy {
  /** host:port to use as the registry address. */
  address: string;
  mode: 'pass' | 'stall';
  /** Connections accepted so far. */
  accepted: number;
  close(): Promise<void>;
}

export async function stallProxy(target: { host: string; port: number }): Promise<StallProxy> {
  const open = new Set<Socket>();
  const proxy: StallProxy = { address: '', mode: 'pass', accepted: 0, close: async () => {} };
  const server: Server = createServer((client) => {
    proxy.accepted++;
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => {});
    if (proxy.mode === 'stall') return; // read nothing, answer nothing
    const up = connect(target.port, target.host);
    open.add(up);
    up.on('close', () => {
      open.delete(up);
      client.destroy();
    });
    up.on('error', () => {});
    client.on('close', () => up.destroy());
    client.pipe(up).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  proxy.address = `127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  proxy.close = () =>
    new Promise((resolve) => {
      for (const s of open) s.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
