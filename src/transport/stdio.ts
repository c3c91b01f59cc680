import type { Server } from '@modelcontextprotocol/server';
import { StdioServerTransport, serveStdio } from '@modelcontextprotocol/server/stdio';
import type { Log } from '../log.ts';
import { ListenTap } from '../resources/subscriptions.ts';
import type { Connection } from '../server.ts';

/**
 * Serves MCP on stdin/stdout; one server instance per connection, both protocol eras. The tap sees
 * 2026-era `subscriptions/listen` requests, which serveStdio answers itself before any server
 * instance does, so resource updates can still reach the client.
 */
export function startStdio(factory: (conn: Connection) => Server, log: Log): void {
  const listens = new ListenTap(new StdioServerTransport());
  serveStdio(() => factory({ listens }), {
    transport: listens,
    onerror: (e) => log.warn(`stdio: ${e.message}`),
  });
}
