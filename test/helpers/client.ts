/**
 * Fixtures for end-to-end tests: spawn the COMPILED binary (MCP_DOCKER_BIN, set by `scripts/test.ts`) over
 * stdio and connect a real MCP client of either SDK generation, behind one small interface.
 */
import { existsSync } from 'node:fs';
import {
  type CallToolResult,
  type RequestOptions,
  type Tool,
  Client as V2Client,
} from '@modelcontextprotocol/client';
import { StdioClientTransport as V2Transport } from '@modelcontextprotocol/client/stdio';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/stdio.js';

/** `v2`: @modelcontextprotocol/client; `v1`: the older @modelcontextprotocol/sdk that most hosts still ship. */
export type ClientKind = 'v2' | 'v1';
export const CLIENT_KINDS: readonly ClientKind[] = ['v2', 'v1'];

export type CallOptions = Pick<
  RequestOptions,
  'timeout' | 'signal' | 'onprogress' | 'resetTimeoutOnProgress'
>;

/** The part of both clients the tests use; `raw` reaches the rest. */
export interface TestClient {
  kind: ClientKind;
  raw: V2Client | V1Client;
  /** Every tool, all pages. */
  listTools(): Promise<Tool[]>;
  /** The raw result: tool failures come back as `isError` results, protocol faults throw. */
  callTool(name: string, args?: Record<string, unknown>, opts?: CallOptions): Promise<CallToolResult>;
}

export interface StartServerOptions {
  client?: ClientKind;
  /** Added to the minimal env (PATH, HOME, DOCKER_HOST); the rest of the test's env is NOT passed. */
  env?: Record<string, string>;
  args?: string[];
  /** A command the binary runs under, e.g. `['unshare', '--mount', …]`: it is given the binary and `args` last. */
  wrap?: string[];
  /**
   * v2 only. `'auto'` (our default, unlike the SDK's) negotiates the 2026 era, where errors also carry
   * `{ kind, retryable, hint }` in structuredContent; `'legacy'` speaks the 2025 `initialize` protocol.
   * v1 always speaks the initialize era, so the two kinds cover both eras.
   */
  negotiation?: 'legacy' | 'auto';
}

export interface RunningServer {
  client: TestClient;
  close(): Promise<void>;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** The server process's id (for /proc/PID/status figures), once spawned. */
  pid(): number | undefined;
}

export const SERVER_BIN = process.env.MCP_DOCKER_BIN ?? 'dist/mcp-docker';

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'DOCKER_HOST'] as const) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

function wrapV2(raw: V2Client): TestClient {
  return {
    kind: 'v2',
    raw,
    listTools: async () => (await raw.listTools()).tools,
    callTool: (name, args = {}, opts) => raw.callTool({ name, arguments: args }, opts),
  };
}

function wrapV1(raw: V1Client): TestClient {
  return {
    kind: 'v1',
    raw,
    async listTools() {
      const tools: Tool[] = [];
      let cursor: string | undefined;
      do {
        const page = await raw.listTools(cursor === undefined ? undefined : { cursor });
        tools.push(...(page.tools as Tool[]));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return tools;
    },
    callTool: async (name, args = {}, opts) =>
      (await raw.callTool({ name, arguments: args }, undefined, opts)) as CallToolResult,
  };
}

/** Spawns the binary and connects a client. On a failed connect, the error shows the server's stderr. */
export async function startServer(opts: StartServerOptions = {}): Promise<RunningServer> {
  if (!existsSync(SERVER_BIN)) {
    throw new Error(`${SERVER_BIN} does not exist: build it with \`bun build.ts\` (npm test does)`);
  }
  const [command, ...wrapArgs] = [...(opts.wrap ?? []), SERVER_BIN];
  const params = {
    command: command as string,
    args: [...wrapArgs, ...(opts.args ?? [])],
    env: { ...baseEnv(), ...opts.env },
    stderr: 'pipe' as const,
  };
  const info = { name: 'mcp-docker-tests', version: '0.0.0' };
  const kind = opts.client ?? 'v2';
  const transport = kind === 'v2' ? new V2Transport(params) : new V1Transport(params);
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });

  let client: TestClient;
  try {
    if (kind === 'v2') {
      const raw = new V2Client(info, { versionNegotiation: { mode: opts.negotiation ?? 'auto' } });
      await raw.connect(transport as V2Transport);
      client = wrapV2(raw);
    } else {
      const raw = new V1Client(info);
      await raw.connect(transport as V1Transport);
      client = wrapV1(raw);
    }
  } catch (error) {
    await transport.close().catch(() => {});
    throw new Error(
      `could not connect a ${kind} client to ${SERVER_BIN}: ${(error as Error).message}\n` +
        `--- server stderr ---\n${stderr}`,
    );
  }
  return {
    client,
    close: () => client.raw.close(),
    stderr: () => stderr,
    pid: () => transport.pid ?? undefined,
  };
}

/** The text content of a result, joined: where the server puts human-readable messages. */
export function textOf(result: CallToolResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join('\n');
}

/** `structuredContent` of a successful result; throws, showing the text, when it is missing or an error. */
export function structured<T>(result: CallToolResult): T {
  if (result.isError) throw new Error(`expected a successful result, got an error: ${textOf(result)}`);
  if (result.structuredContent === undefined) {
    throw new Error(`result has no structuredContent; its text was: ${textOf(result)}`);
  }
  return result.structuredContent as T;
}

export interface ToolError {
  kind: string;
  message: string;
  retryable?: boolean;
  hint?: string;
}

/**
 * The error of an `isError` result. The message is the text content (`<kind>: <what> — <hint>`). On the 2026
 * era `{ kind, retryable, hint }` come from structuredContent; initialize-era clients get no structuredContent
 * on errors (they would validate it against the output schema), so there the kind is read off the text.
 */
export function errorOf(result: CallToolResult): ToolError {
  const message = textOf(result);
  if (!result.isError) throw new Error(`expected an error result, got success: ${message}`);
  const data = (result.structuredContent ?? {}) as Partial<ToolError>;
  const kind = typeof data.kind === 'string' ? data.kind : /^([a-z_]+): /.exec(message)?.[1];
  return {
    kind: kind ?? '(none)',
    message,
    retryable: data.retryable,
    hint: data.hint,
  };
}
