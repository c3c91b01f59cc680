/**
 * A unix-socket proxy in front of the test engine, to simulate the engine going away and coming
 * back: stop() closes the listener AND resets every open connection, as a dying daemon would.
 */
import { rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface SocketProxy {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function socketProxy(listenPath: string, targetPath: string): SocketProxy {
  let server: Server | undefined;
  const open = new Set<Socket>();
  return {
    start: () =>
      new Promise((resolve, reject) => {
        rmSync(listenPath, { force: true });
        server = createServer((client) => {
          const upstream = connect(targetPath);
          for (const s of [client, upstream]) {
            open.add(s);
            s.on('close', () => open.delete(s));
            s.on('error', () => {});
          }
          client.pipe(upstream).pipe(client);
          client.on('close', () => upstream.destroy());
          upstream.on('close', () => client.destroy());
        });
        server.once('error', reject);
        server.listen(listenPath, () => resolve());
      }),
    stop: () =>
      new Promise((resolve) => {
        for (const s of open) s.destroy();
        open.clear();
        if (!server) return resolve();
        server.close(() => resolve());
        server = undefined;
      }),
  };
}
