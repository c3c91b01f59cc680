/**
 * The compiled binary over stdio, driven by real MCP clients of both SDK generations
 * (v2 negotiating the 2026-07-28 era, v1 the initialize-based one) against the real engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_TOOLSETS } from '../../src/core/toolsets.ts';
import { catalogue as everyTool } from '../../src/tools/index.ts';

/** What a server lists by default: the tools of the default toolsets (swarm is off). */
const catalogue = everyTool.filter((t) => t.toolset !== undefined && DEFAULT_TOOLSETS.includes(t.toolset));

import {
  CLIENT_KINDS,
  errorOf,
  type RunningServer,
  SERVER_BIN,
  startServer,
  structured,
  textOf,
} from '../helpers/client.ts';
import { cleanupContainers, makeContainer, TEST_IMAGE, testLabels, uniqueName } from '../helpers/engine.ts';
import { socketProxy } from '../helpers/socket-proxy.ts';

let running: { id: string; name: string };

beforeAll(async () => {
  running = await makeContainer({ name: uniqueName('mcpt-e2e') });
});
afterAll(cleanupContainers);

for (const kind of CLIENT_KINDS) {
  describe(`stdio binary with the ${kind} client`, () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startServer({ client: kind });
    });
    afterAll(() => server.close());

    it('lists safe and moderate tools but no destructive ones by default, each with derived hints', async () => {
      const tools = await server.client.listTools();
      const names = tools.map((t) => t.name);
      expect(names).toContain('docker_list_containers');
      expect(names).toContain('docker_start_container');
      for (const t of catalogue.filter((c) => c.safety === 'destructive'))
        expect(names).not.toContain(t.name);
      expect(names.length).toBe(catalogue.filter((c) => c.safety !== 'destructive').length);
      const list = tools.find((t) => t.name === 'docker_list_containers');
      expect(list?.title).toBe('List containers');
      expect(list?.annotations).toEqual({ readOnlyHint: true, openWorldHint: false });
      expect(tools.find((t) => t.name === 'docker_start_container')?.annotations).toEqual({
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      });
      expect(list?.outputSchema?.type).toBe('object');
    });

    it('lists containers as compact rows with structured content and the same JSON as text', async () => {
      const result = await server.client.callTool('docker_list_containers', {
        filters: { name: [running.name] },
      });
      const data = structured<{
        containers: { name: string; state: string; image: string }[];
        count: number;
      }>(result);
      expect(data.count).toBe(1);
      expect(data.containers[0]).toMatchObject({ name: running.name, state: 'running', image: TEST_IMAGE });
      expect(JSON.parse(textOf(result))).toEqual(data);
    });

    it('validates results of tools that share one output schema by $id, compiled once', async () => {
      const tools = await server.client.listTools();
      const byId = new Map<string, string>();
      for (const t of tools) {
        const id = (t.outputSchema as { $id?: string } | undefined)?.$id;
        if (!id) continue;
        // One $id, one schema: a client reuses the validator it compiled for the first.
        expect(byId.get(id) ?? JSON.stringify(t.outputSchema)).toBe(JSON.stringify(t.outputSchema));
        byId.set(id, JSON.stringify(t.outputSchema));
      }
      const shared = (name: string) =>
        (tools.find((t) => t.name === name)?.outputSchema as { $id?: string } | undefined)?.$id;
      // Lean (the default): one `{type: object}` for every tool, compiled once.
      expect(new Set(tools.map((t) => shared(t.name))).size).toBe(1);
      expect(shared('docker_start_container')).toBeString();
      // The client checks each structuredContent against the validator its $id names.
      const started = await server.client.callTool('docker_start_container', { container_id: running.name });
      expect(structured<{ name: string; state: string }>(started)).toMatchObject({
        name: running.name,
        state: 'running',
      });
      const image = await server.client.callTool('docker_inspect_image', { image: TEST_IMAGE });
      expect(structured<{ id: string }>(image).id).toBeString();
      const inspected = await server.client.callTool('docker_inspect_container', {
        container_id: running.name,
      });
      expect(structured<{ name: string }>(inspected).name).toBe(running.name);
    });

    it('lists the full declared output schemas with --output-schemas full, and results pass them', async () => {
      const full = await startServer({ client: kind, args: ['--output-schemas', 'full'] });
      try {
        const tools = await full.client.listTools();
        const list = tools.find((t) => t.name === 'docker_list_containers');
        const props = list?.outputSchema?.properties as Record<string, { description?: string }>;
        expect(props.count?.description).toBe('Rows returned');
        // Row fields too (compact rows, or the engine's document with full: true).
        expect(JSON.stringify(props.containers)).toContain('"status"');
        expect(list?.annotations).toEqual({ readOnlyHint: true, openWorldHint: false });
        // The client checks each structuredContent against the full schema it listed; a mismatch throws.
        const listed = await full.client.callTool('docker_list_containers', {
          filters: { name: [running.name] },
        });
        expect(structured<{ count: number }>(listed).count).toBe(1);
        const inspected = await full.client.callTool('docker_inspect_container', {
          container_id: running.name,
        });
        expect(structured<{ name: string }>(inspected).name).toBe(running.name);
        const image = await full.client.callTool('docker_inspect_image', { image: TEST_IMAGE });
        expect(structured<{ id: string }>(image).id).toBeString();
      } finally {
        await full.close();
      }
    });

    it('answers a missing container with not_found and a next step', async () => {
      const err = errorOf(
        await server.client.callTool('docker_inspect_container', { container_id: `${running.name}x` }),
      );
      expect(err.kind).toBe('not_found');
      expect(err.message).toContain(`Did you mean '${running.name}'`);
      expect(err.message).toContain('? See what exists with docker_list_containers.');
    });

    it('names the bad field when arguments are invalid', async () => {
      const err = errorOf(await server.client.callTool('docker_list_containers', { limit: 'ten' }));
      expect(err.kind).toBe('invalid_argument');
      expect(err.message).toContain("'limit'");
    });

    it('refuses a destructive tool in the default mode, naming the setting that allows it', async () => {
      const err = errorOf(
        await server.client.callTool('docker_remove_container', { container_id: running.name }),
      );
      expect(err.kind).toBe('policy_denied');
      expect(err.message).toContain('SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS=true');
    });

    it('refuses a privileged container before it reaches the engine', async () => {
      const name = uniqueName('mcpt-priv');
      const err = errorOf(
        await server.client.callTool('docker_create_container', {
          image: TEST_IMAGE,
          name,
          privileged: true,
          labels: testLabels(),
        }),
      );
      expect(err.kind).toBe('policy_denied');
      expect(err.message).toContain('SAFETY_ALLOW_PRIVILEGED_CONTAINERS');
      const listed = structured<{ count: number }>(
        await server.client.callTool('docker_list_containers', { all: true, filters: { name: [name] } }),
      );
      expect(listed.count).toBe(0);
    });

    it('refuses bind mounts of / and of the Docker socket', async () => {
      for (const volumes of [['/:/host'], ['/var/run/docker.sock:/s'], ['//etc:/e'], ['/etc/../etc:/e']]) {
        const err = errorOf(
          await server.client.callTool('docker_create_container', {
            image: TEST_IMAGE,
            volumes,
            labels: testLabels(),
          }),
        );
        expect(err.kind).toBe('policy_denied');
      }
    });
  });
}

describe('stdio binary safety modes', () => {
  it('lists only read-only tools with --read-only', async () => {
    const server = await startServer({ args: ['--read-only'] });
    try {
      const tools = await server.client.listTools();
      expect(tools.length).toBeGreaterThan(0);
      for (const t of tools) expect(t.annotations?.readOnlyHint).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('lists and runs destructive tools when enabled, and honours the deny list', async () => {
    const victim = await makeContainer({ name: uniqueName('mcpt-rm'), start: false });
    const server = await startServer({
      env: { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true', SAFETY_DENIED_TOOLS: 'docker_kill_container' },
    });
    try {
      const names = (await server.client.listTools()).map((t) => t.name);
      for (const t of catalogue.filter((c) => c.safety === 'destructive')) expect(names).toContain(t.name);
      expect(names).not.toContain('docker_kill_container');
      structured(await server.client.callTool('docker_remove_container', { container_id: victim.name }));
      const err = errorOf(
        await server.client.callTool('docker_inspect_container', { container_id: victim.name }),
      );
      expect(err.kind).toBe('not_found');
      expect(
        errorOf(await server.client.callTool('docker_kill_container', { container_id: victim.name })).message,
      ).toContain('SAFETY_DENIED_TOOLS');
    } finally {
      await server.close();
    }
  });
});

describe('stdio binary without an engine', () => {
  it('starts, explains what it tried, and recovers when the engine comes up or back, without a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpd-e2e-'));
    const sock = join(dir, 'docker.sock');
    const engine = socketProxy(sock, (process.env.DOCKER_HOST ?? '').replace(/^unix:\/\//, ''));
    const server = await startServer({ env: { DOCKER_HOST: `unix://${sock}` } });
    const listCount = async () =>
      structured<{ count: number }>(await server.client.callTool('docker_list_containers', {})).count;
    try {
      const err = errorOf(await server.client.callTool('docker_list_containers', {}));
      expect(err.kind).toBe('engine_unreachable');
      expect(err.message).toContain(sock);
      expect(err.message).toContain('DOCKER_HOST');
      await engine.start(); // the engine comes up where we were told to look
      expect(await listCount()).toBeGreaterThan(0);
      await engine.stop(); // it dies, taking the open connections with it
      expect(errorOf(await server.client.callTool('docker_list_containers', {})).kind).toBe(
        'engine_unreachable',
      );
      await engine.start(); // and comes back
      expect(await listCount()).toBeGreaterThan(0);
    } finally {
      await server.close();
      await engine.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('stdio fast path', () => {
  const LOADED = 'loading the MCP SDK';

  it('serves an initialize-era client its tools without loading the SDK, and loads it for prompts', async () => {
    const server = await startServer({ client: 'v1', args: ['--log-level', 'debug'] });
    try {
      expect((await server.client.listTools()).length).toBeGreaterThan(20);
      const version = await server.client.callTool('docker_version');
      expect(version.isError).toBeFalsy();
      await Bun.sleep(100);
      expect(server.stderr()).not.toContain(LOADED);

      const raw = server.client.raw as { listPrompts(): Promise<{ prompts: unknown[] }> };
      expect((await raw.listPrompts()).prompts.length).toBeGreaterThan(0);
      expect(server.stderr()).toContain(`${LOADED} for 'prompts/list'`);
      // Tools still answer after the hand-over.
      expect((await server.client.callTool('docker_version')).isError).toBeFalsy();
    } finally {
      await server.close();
    }
  });

  it('hands a 2026-era client to the SDK from its first message', async () => {
    const server = await startServer({ client: 'v2', args: ['--log-level', 'debug'] });
    try {
      expect((await server.client.callTool('docker_version')).isError).toBeFalsy();
      expect(server.stderr()).toContain(LOADED);
    } finally {
      await server.close();
    }
  });
});

describe('mcp-docker command line', () => {
  const run = (...args: string[]) => {
    const p = Bun.spawnSync([SERVER_BIN, ...args], { env: { PATH: process.env.PATH ?? '' } });
    return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
  };

  it('prints its version', () => {
    const r = run('--version');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^mcp-docker \d+\.\d+\.\d+/);
  });

  it('prints help generated from the options', () => {
    const r = run('--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('--allow-destructive');
    expect(r.out).toContain('SAFETY_MAX_RESPONSE_BYTES');
  });

  it('rejects an unknown flag with exit 2 and a pointer to --help', () => {
    const r = run('--frobnicate');
    expect(r.code).toBe(2);
    expect(r.err).toContain("unknown option '--frobnicate'");
    expect(r.out).toBe('');
  });

  it('rejects a bad setting naming the variable', () => {
    const p = Bun.spawnSync([SERVER_BIN], { env: { SAFETY_MAX_RESPONSE_BYTES: 'lots' } });
    expect(p.exitCode).toBe(2);
    expect(p.stderr.toString()).toContain('SAFETY_MAX_RESPONSE_BYTES');
  });
});
