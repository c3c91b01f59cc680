/**
 * The compiled binary as a child process, for end-to-end tests of its HTTP transport and subcommands:
 * a clean environment (PATH, HOME, DOCKER_HOST plus what the test gives), stdout and stderr collected,
 * and every process it started killed by `killSpawned()` in afterAll.
 */
import { createServer } from 'node:net';
import type { FileSink, Subprocess } from 'bun';
import { SERVER_BIN } from './client.ts';

/** Whether `port` (0: any) can be listened on at 127.0.0.1 right now; the port it got, or undefined. */
const tryListen = (port: number) =>
  new Promise<number | undefined>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => {
      const { port: got } = s.address() as { port: number };
      s.close(() => resolve(got));
    });
  });

/**
 * A port free on 127.0.0.1 right now: any, or on a shared host the first free one of
 * MCP_DOCKER_TEST_PORTS ("18960-18969").
 */
export async function freePort(): Promise<number> {
  const range = /^(\d+)-(\d+)$/.exec(process.env.MCP_DOCKER_TEST_PORTS ?? '');
  if (!range) return (await tryListen(0)) as number;
  for (let p = Number(range[1]); p <= Number(range[2]); p++) {
    const got = await tryListen(p);
    if (got !== undefined) return got;
  }
  throw new Error(`no free port in MCP_DOCKER_TEST_PORTS=${process.env.MCP_DOCKER_TEST_PORTS}`);
}

export interface Spawned {
  proc: Subprocess<'ignore' | 'pipe', 'pipe', 'pipe'>;
  /** Set when spawned with `stdin: 'pipe'`. */
  stdin?: FileSink;
  stderr: () => string;
  stdout: () => string;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  stdin?: 'ignore' | 'pipe';
}

const spawned: Subprocess[] = [];

const collect = (stream: ReadableStream<Uint8Array>) => {
  let text = '';
  void (async () => {
    for await (const chunk of stream) text += new TextDecoder().decode(chunk);
  })();
  return () => text;
};

export function spawnBinary(args: string[], { env = {}, stdin = 'ignore' }: SpawnOptions = {}): Spawned {
  const proc = Bun.spawn([SERVER_BIN, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DOCKER_HOST: process.env.DOCKER_HOST ?? '',
      ...env,
    },
    stdin,
    stdout: 'pipe',
    stderr: 'pipe',
  });
  spawned.push(proc);
  const sink = stdin === 'pipe' ? (proc.stdin as FileSink) : undefined;
  return { proc, stdin: sink, stderr: collect(proc.stderr), stdout: collect(proc.stdout) };
}

export interface HttpServer extends Spawned {
  base: string;
  port: number;
}

export interface ServeOptions {
  env?: Record<string, string>;
  scheme?: 'http' | 'https';
  /** How the transport is chosen; default `['--transport', 'http']` (`[]` when `env` picks it). */
  transportArgs?: string[];
}

/** `--transport http` on a free loopback port; resolves once it logs that it serves, else throws its stderr. */
export async function serveHttp(
  args: string[] = [],
  { env, scheme = 'http', transportArgs = ['--transport', 'http'] }: ServeOptions = {},
): Promise<HttpServer> {
  const port = await freePort();
  const s = spawnBinary([...transportArgs, '--host', '127.0.0.1', '--port', String(port), ...args], {
    env,
  });
  for (let i = 0; i < 100 && !s.stderr().includes('serving MCP'); i++) await Bun.sleep(50);
  if (!s.stderr().includes('serving MCP')) throw new Error(`server did not start:\n${s.stderr()}`);
  return { ...s, base: `${scheme}://127.0.0.1:${port}`, port };
}

/** For afterAll: SIGKILL everything this file spawned. */
export function killSpawned(): void {
  for (const p of spawned.splice(0)) p.kill('SIGKILL');
}

const MODERN = '2026-07-28';
const META = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'mcp-docker-e2e-raw', version: '0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
let nextId = 1;

/** One 2026-era request over raw fetch (no session), so every status and header is the server's own. */
export async function rpc(
  base: string,
  method: string,
  params: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; text: string; id: number }> {
  const id = nextId++;
  const name: Record<string, string> = typeof params.name === 'string' ? { 'mcp-name': params.name } : {};
  const res = await fetch(`${base}/mcp`, {
    method: 'POST',
    headers: {
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
      'mcp-protocol-version': MODERN,
      'mcp-method': method,
      ...name,
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: META } }),
  });
  return { status: res.status, headers: res.headers, text: await res.text(), id };
}

/** `rpc` for one tools/call. */
export const call = (base: string, tool: string, args: Record<string, unknown> = {}, headers = {}) =>
  rpc(base, 'tools/call', { name: tool, arguments: args }, headers);
