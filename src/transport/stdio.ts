import type { Server } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { Log } from '../log.ts';

/** Serves MCP on stdin/stdout; one server instance per connection, both protocol eras. */
export function startStdio(factory: () => Server, log: Log): void {
  serveStdio(factory, { onerror: (e) => log.warn(`stdio: ${e.message}`) });
}
