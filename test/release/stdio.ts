/**
 * A stdio MCP server started by a command (the npm launcher, an unpacked bundle's binary, `docker run -i`),
 * driven with raw JSON-RPC lines: the release checks need only initialize and one tool call.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface StdioServer {
  child: ChildProcess;
  /** Sends a request and resolves with the response carrying its id (rejects after timeoutMs). */
  request(
    method: string,
    params?: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Every stdout line that is not a JSON-RPC message (must stay empty: stdout is the protocol). */
  strays: string[];
  stderr(): string;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startStdio(command: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) {
  const [cmd, ...args] = command;
  const child = spawn(cmd as string, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
  const waiting = new Map<unknown, (msg: Record<string, unknown>) => void>();
  const strays: string[] = [];
  let err = '';
  let buf = '';
  child.stderr?.on('data', (d) => {
    err += d;
  });
  child.stdout?.on('data', (d) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg.jsonrpc !== '2.0') strays.push(line);
        waiting.get(msg.id)?.(msg);
      } catch {
        strays.push(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let next = 1;
  const server: StdioServer = {
    child,
    strays,
    stderr: () => err,
    exited,
    request(method, params = {}, timeoutMs = 15_000) {
      const id = next++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no answer to ${method} in ${timeoutMs} ms; stderr: ${err.slice(-2000)}`)),
          timeoutMs,
        );
        waiting.set(id, (msg) => {
          clearTimeout(timer);
          resolve(msg);
        });
        child.stdin?.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
      });
    },
  };
  return server;
}

export const INITIALIZE = {
  protocolVersion: '2025-06-18',
  capabilities: {},
  clientInfo: { name: 'release-check', version: '0.0.0' },
};

/** initialize + notifications/initialized; returns the server's name and version from the result. */
export async function initialize(server: StdioServer): Promise<{ name: string; version: string }> {
  const res = await server.request('initialize', INITIALIZE);
  const result = res.result as { serverInfo?: { name: string; version: string } } | undefined;
  if (!result?.serverInfo)
    throw new Error(`initialize failed: ${JSON.stringify(res)}; stderr: ${server.stderr()}`);
  server.child.stdin?.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  return result.serverInfo;
}
