/**
 * Clients that can ask their user (MCP elicitation), for the --confirm tests: both SDK generations,
 * over stdio (the compiled binary), Streamable HTTP and legacy SSE. `answer` plays the user: it sees
 * each question and returns accept (ticked), decline or cancel; every question is kept in `asked`.
 */
import {
  type CallToolResult,
  Client as V2Client,
  StreamableHTTPClientTransport as V2Http,
} from '@modelcontextprotocol/client';
import { StdioClientTransport as V2Stdio } from '@modelcontextprotocol/client/stdio';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport as V1Sse } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport as V1Stdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as V1Http } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { SERVER_BIN } from './client.ts';

export type UserAnswer = 'accept' | 'decline' | 'cancel';
/** v1: @modelcontextprotocol/sdk (initialize era); v2-legacy: v2 client on the initialize era; v2: the 2026 era. */
export type AskingKind = 'v1' | 'v2-legacy' | 'v2';
export const ASKING_KINDS: readonly AskingKind[] = ['v1', 'v2-legacy', 'v2'];

export interface Question {
  message: string;
  requestedSchema?: unknown;
}

export interface AskingClient {
  kind: AskingKind;
  raw: V1Client | V2Client;
  asked: Question[];
  callTool(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
  stderr(): string;
}

export interface AskingOptions {
  kind: AskingKind;
  /**
   * The user: undefined = the client declares no elicitation at all. `withdrawn` aborts when the
   * server withdraws the question (notifications/cancelled for it).
   */
  answer?: (q: Question, withdrawn: AbortSignal) => UserAnswer | Promise<UserAnswer>;
  /** stdio: args and env for the binary. */
  args?: string[];
  env?: Record<string, string>;
  /** HTTP: the server's base URL (then args/env are ignored); `sse` uses the legacy transport (v1 only). */
  url?: string;
  sse?: boolean;
  headers?: Record<string, string>;
}

const info = { name: 'mcp-docker-confirm-tests', version: '0.0.0' };

const reply = (a: UserAnswer) => (a === 'accept' ? { action: a, content: { confirm: true } } : { action: a });

export async function askingClient(o: AskingOptions): Promise<AskingClient> {
  const asked: Question[] = [];
  const user = async (params: unknown, withdrawn: AbortSignal) => {
    const q = params as Question;
    asked.push(q);
    return reply(await (o.answer as NonNullable<AskingOptions['answer']>)(q, withdrawn));
  };
  const capabilities = o.answer ? { elicitation: { form: {} } } : {};
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    DOCKER_HOST: process.env.DOCKER_HOST ?? '',
    ...o.env,
  };
  const stdio = { command: SERVER_BIN, args: o.args ?? [], env, stderr: 'pipe' as const };
  let stderr = '';
  const requestInit = o.headers ? { headers: o.headers } : undefined;
  if (o.kind === 'v1') {
    const raw = new V1Client(info, { capabilities });
    if (o.answer)
      raw.setRequestHandler(ElicitRequestSchema, (r, extra) => user(r.params, extra.signal) as never);
    const url = o.url ? new URL(`${o.url}${o.sse ? '/sse' : '/mcp'}`) : undefined;
    const transport = url
      ? o.sse
        ? new V1Sse(url, { requestInit, eventSourceInit: o.headers ? sseInit(o.headers) : undefined })
        : new V1Http(url, { requestInit })
      : new V1Stdio(stdio);
    if (transport instanceof V1Stdio) transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    await raw.connect(transport);
    return {
      kind: o.kind,
      raw,
      asked,
      callTool: async (name, args = {}) =>
        (await raw.callTool({ name, arguments: args }, undefined, { timeout: 60_000 })) as CallToolResult,
      close: () => raw.close(),
      stderr: () => stderr,
    };
  }
  const raw = new V2Client(info, {
    capabilities,
    versionNegotiation: { mode: o.kind === 'v2' ? 'auto' : 'legacy' },
  });
  if (o.answer)
    raw.setRequestHandler('elicitation/create', (r, ctx) => user(r.params, ctx.mcpReq.signal) as never);
  const transport = o.url ? new V2Http(new URL(`${o.url}/mcp`), { requestInit }) : new V2Stdio(stdio);
  if (transport instanceof V2Stdio) transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  await raw.connect(transport);
  return {
    kind: o.kind,
    raw,
    asked,
    callTool: (name, args = {}) => raw.callTool({ name, arguments: args }, { timeout: 60_000 }),
    close: () => raw.close(),
    stderr: () => stderr,
  };
}

/** The legacy SSE stream's GET carries the same headers (auth) as the POSTs. */
const sseInit = (headers: Record<string, string>) => ({
  fetch: (url: string | URL, init?: RequestInit) =>
    fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }),
});

/** A 2026-era call's answer round: the call's `params` again, the question accepted, with its state. */
export const acceptedRound = (params: object, requestState: string | undefined) => ({
  ...params,
  inputResponses: { confirm: { action: 'accept', content: { confirm: true } } },
  requestState,
});
