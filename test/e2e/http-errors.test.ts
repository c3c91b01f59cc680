/**
 * What errors tell a remote caller, end to end: the compiled binary serving HTTP with DOCKER_HOST at a
 * socket that does not exist. Remote clients (v2 over /mcp, v1 over legacy /sse) learn that the engine
 * is unreachable and whom to ask, never the engine's address or a path on the server; the server log
 * keeps the details. Over stdio the local user still sees the endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as V2Client, StreamableHTTPClientTransport as V2Http } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport as V1Sse } from '@modelcontextprotocol/sdk/client/sse.js';
import { ENGINE_UNREACHABLE_REMOTE } from '../../src/pipeline/remote-errors.ts';
import { errorOf, startServer, textOf } from '../helpers/client.ts';
import { call, type HttpServer, killSpawned, serveHttp } from '../helpers/http-binary.ts';
import { meta2026, startRaw } from '../helpers/raw-stdio.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-http-errors-'));
const socket = join(dir, 'no-engine-here', 'docker.sock');
const env = { DOCKER_HOST: `unix://${socket}` };
const info = { name: 'mcp-docker-errors-e2e', version: '0.0.0' };

let r: HttpServer;
beforeAll(async () => {
  r = await serveHttp([], { env });
});

afterAll(() => {
  killSpawned();
  rmSync(dir, { recursive: true, force: true });
});

/** Nothing of the server's layout: not the socket path, not its directory, no unix:// address. */
function expectNoInternals(text: string) {
  expect(text).not.toContain(dir);
  expect(text).not.toContain('docker.sock');
  expect(text).not.toContain('unix://');
}

describe('an unreachable engine, told to HTTP callers', () => {
  it('v2 over /mcp: engine_unreachable with the generic message, retryable, no address or path', async () => {
    const client = new V2Client(info, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new V2Http(new URL(`${r.base}/mcp`)));
    const result = await client.callTool({ name: 'docker_list_containers', arguments: {} });
    const error = errorOf(result as Parameters<typeof errorOf>[0]);
    expect(error.kind).toBe('engine_unreachable');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(ENGINE_UNREACHABLE_REMOTE);
    expectNoInternals(JSON.stringify(result));
    // The operator's log has what the caller was not told.
    expect(r.stderr()).toContain(socket);
    await client.close();
  });

  it('v1 over legacy /sse: the same generic message', async () => {
    const client = new V1Client(info);
    await client.connect(new V1Sse(new URL(`${r.base}/sse`)));
    const result = await client.callTool({
      name: 'docker_inspect_container',
      arguments: { container_id: 'web' },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result as Parameters<typeof textOf>[0])).toContain(ENGINE_UNREACHABLE_REMOTE);
    expectNoInternals(JSON.stringify(result));
    await client.close();
  });

  it('docker_healthcheck reports unreachable without the attempted address', async () => {
    const client = new V2Client(info, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new V2Http(new URL(`${r.base}/mcp`)));
    const result = await client.callTool({ name: 'docker_healthcheck', arguments: {} });
    expect(result.isError).toBeFalsy();
    const data = result.structuredContent as {
      reachable: boolean;
      error?: string;
      tried?: { source: string }[];
    };
    expect(data.reachable).toBe(false);
    expect(data.error).toBe(ENGINE_UNREACHABLE_REMOTE);
    // How the endpoint was found and what happened stay; where it is does not.
    expect(data.tried?.[0]?.source).toBe('DOCKER_HOST');
    expectNoInternals(JSON.stringify(result));
    await client.close();
  });

  it('a resource read fails the same way', async () => {
    const client = new V2Client(info, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new V2Http(new URL(`${r.base}/mcp`)));
    const failure = await client.readResource({ uri: 'docker://containers' }).then(
      () => 'read succeeded',
      (e: Error) => e.message,
    );
    expect(failure).toContain(ENGINE_UNREACHABLE_REMOTE);
    expectNoInternals(failure);
    await client.close();
  });
});

describe('the same engine over stdio', () => {
  it('still names the endpoint to the local user', async () => {
    const server = await startServer({ env });
    try {
      const error = errorOf(await server.client.callTool('docker_list_containers', {}));
      expect(error.kind).toBe('engine_unreachable');
      expect(error.message).toContain(socket);
      expect(error.message).not.toContain(ENGINE_UNREACHABLE_REMOTE);
    } finally {
      await server.close();
    }
  });
});

describe('a refused host path, told to HTTP callers', () => {
  it('names the path the caller gave, never what it resolves to or the allowed roots', async () => {
    // A link under the temp dir (an allowed root) to a directory outside every root.
    const link = join(dir, 'mcpt-link');
    symlinkSync('/usr/share', link);
    const served = await serveHttp([]);
    const res = await call(served.base, 'docker_compose_config', { project_dir: link });
    expect(res.status).toBe(200);
    expect(res.text).toContain('policy_denied');
    expect(res.text).toContain(`host path '${link}' is refused`);
    expect(res.text).toContain('--mount-allowlist');
    expect(res.text).not.toContain('/usr/share');
    expect(res.text).not.toContain(`(${homedir()}`);
    expect(res.text).not.toContain('resolving to');
    // The operator's log keeps the whole refusal.
    for (let i = 0; i < 20 && !served.stderr().includes('/usr/share'); i++) await Bun.sleep(50);
    expect(served.stderr()).toContain('/usr/share');
  });

  it("keeps those words when a Compose service's refusal is reworded around them", async () => {
    const project = join(dir, 'mcpt-linked-bind');
    mkdirSync(project);
    symlinkSync('/usr/share', join(project, 'data'));
    writeFileSync(
      join(project, 'compose.yaml'),
      'services:\n  web:\n    image: mcp-test/busybox:latest\n    volumes: ["./data:/data"]\n',
    );
    const served = await serveHttp([]);
    const res = await call(served.base, 'docker_compose_config', { project_dir: project });
    expect(res.text).toContain(`service \\"web\\" (key volumes)`);
    expect(res.text).toContain(`host path '${project}/data' is refused: it is not under an allowed root`);
    // Up refuses the project with every refusal joined into one error.
    const up = await call(served.base, 'docker_compose_up', { project_dir: project });
    expect(up.text).toContain('policy_denied');
    expect(up.text).toContain(`host path '${project}/data' is refused: it is not under an allowed root`);
    for (const text of [res.text, up.text]) {
      expect(text).not.toContain('/usr/share');
      expect(text).not.toContain('resolving to');
    }
  });
});

describe('a request without a Host header', () => {
  it('gets 400 naming the header, with the security headers, over HTTP/1.0', async () => {
    const port = Number(new URL(r.base).port);
    let reply = '';
    const socket = await Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: {
        data(_s, chunk) {
          reply += new TextDecoder().decode(chunk);
        },
      },
    });
    socket.write('GET /healthz HTTP/1.0\r\n\r\n');
    for (let i = 0; i < 40 && !reply.includes('}'); i++) await Bun.sleep(50);
    socket.end();
    expect(reply).toStartWith('HTTP/1.1 400');
    expect(reply.toLowerCase()).toContain('x-content-type-options: nosniff');
    expect(reply).toContain('Host header required');
  });
});

describe('arguments nested too deep', () => {
  const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
  const args = `{"image":${deep}}`;

  it('are refused invalid_argument naming the depth limit over HTTP, and audited', async () => {
    const audit = join(dir, 'deep-audit.jsonl');
    const served = await serveHttp([], { env: { SECURITY_AUDIT_LOG_FILE: audit } });
    const res = await fetch(`${served.base}/mcp`, {
      method: 'POST',
      headers: {
        accept: 'application/json, text/event-stream',
        'content-type': 'application/json',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'docker_create_container',
      },
      body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"docker_create_container","arguments":${args},"_meta":${JSON.stringify(meta2026)}}}`,
    });
    const text = await res.text();
    expect(text).toContain('invalid_argument');
    expect(text).toContain("invalid argument 'image': it nests deeper than 64 levels");
    served.proc.kill('SIGTERM');
    await served.proc.exited;
    expect(readFileSync(audit, 'utf8')).toContain('"outcome":"invalid_argument"');
  });

  it('are refused the same way over stdio', async () => {
    const s = startRaw({ DOCKER_HOST: process.env.DOCKER_HOST ?? '' });
    try {
      await s.write(
        `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"docker_create_container","arguments":${args},"_meta":${JSON.stringify(meta2026)}}}\n`,
      );
      const answer = JSON.stringify(await s.waitFor(5));
      expect(answer).toContain('invalid_argument');
      expect(answer).toContain('deeper than 64 levels');
    } finally {
      await s.close();
    }
  });
});
