/**
 * A real MCP client connected in-process to the real server (buildServer, served by the SDK's stdio
 * entry over an in-memory transport, with the subscriptions tap), against the real engine. For
 * integration tests of prompts and resources; the compiled binary is covered by test/e2e.
 */
import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { EngineHandle } from '../../src/docker/engines.ts';
import { ListenTap } from '../../src/resources/subscriptions.ts';
import { buildServer, type ServerDeps } from '../../src/server.ts';
import { catalogue } from '../../src/tools/index.ts';
import { VERSION } from '../../src/version.ts';
import { type EnvOverrides, pipelineEnv } from './pipeline.ts';

export interface InProcessOptions extends EnvOverrides {
  /** `auto` negotiates the 2026-07-28 era, `legacy` the initialize-based one. */
  negotiation?: 'auto' | 'legacy';
  allowedPrompts?: string[];
  allowedResources?: string[];
}

export interface InProcess {
  client: Client;
  close(): Promise<void>;
}

export async function connectInProcess(o: InProcessOptions = {}): Promise<InProcess> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const tap = new ListenTap(serverSide);
  const deps: ServerDeps = {
    catalogue,
    env: pipelineEnv(o),
    version: VERSION,
    allowedPrompts: o.allowedPrompts,
    allowedResources: o.allowedResources,
  };
  const handle = serveStdio(() => buildServer(deps, { listens: tap }), { transport: tap });
  const client = new Client(
    { name: 'mcp-docker-tests', version: '0.0.0' },
    { versionNegotiation: { mode: o.negotiation ?? 'auto' } },
  );
  await client.connect(clientSide);
  return {
    client,
    close: async () => {
      await client.close();
      await handle.close();
    },
  };
}

/** An engine handle that counts client() calls, to prove nothing keeps using the engine. */
export function countingEngine(inner: EngineHandle): EngineHandle & { calls: number } {
  const counted = {
    calls: 0,
    client(signal: AbortSignal) {
      counted.calls++;
      return inner.client(signal);
    },
    requests(signal: AbortSignal) {
      counted.calls++;
      return inner.requests(signal);
    },
    invalidate: () => inner.invalidate(),
    info: () => inner.info(),
    attempts: () => inner.attempts(),
    name: inner.name,
    get facts() {
      return inner.facts;
    },
    resolveFacts: (signal?: AbortSignal) => inner.resolveFacts(signal),
    ceiling: inner.ceiling,
  };
  return counted;
}

/** The text of the first message of a prompt or the first content of a resource. */
export const firstText = (r: { messages?: { content: unknown }[]; contents?: unknown[] }): string => {
  const c = (r.messages?.[0]?.content ?? r.contents?.[0]) as { text?: string } | undefined;
  if (typeof c?.text !== 'string') throw new Error(`no text in ${JSON.stringify(r).slice(0, 300)}`);
  return c.text;
};

/** Every `<untrusted-TAG source="…">` … `</untrusted-TAG>` fence in `text`, with its lines. */
export function fences(text: string): { source: string; lines: string[] }[] {
  const out: { source: string; lines: string[] }[] = [];
  const re = /^<untrusted-([0-9a-z]+) source="([^"]*)">\n([\s\S]*?)\n<\/untrusted-\1>$/gm;
  for (const m of text.matchAll(re))
    out.push({ source: m[2] as string, lines: (m[3] as string).split('\n') });
  return out;
}
