/**
 * What a call on one engine may do to the server's other engines, and how errors name engines,
 * through the compiled binary: a bind of another engine's socket, a swarm join that fetches the
 * manager engine's token (gated there; no join is made), engines named like secrets, and refusals
 * by server-wide settings. Every engine here is the test engine under another name, or an address
 * where nothing answers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf, type RunningServer, startServer } from '../helpers/client.ts';
import { cleanupContainers, TEST_IMAGE, testLabels } from '../helpers/engine.ts';

const engine = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
const dir = mkdtempSync(join(tmpdir(), 'mcpt-across-'));
/** A unix socket standing for a read-only engine's (an `ssh -L` forward, a second dockerd). */
const roSocket = join(dir, 'ro.sock');
let listener: Server;
const running: RunningServer[] = [];

beforeAll(async () => {
  listener = createServer((s) => s.destroy());
  await new Promise<void>((resolve) => listener.listen(roSocket, resolve));
});

afterAll(async () => {
  for (const s of running) await s.close().catch(() => {});
  listener?.close();
  await cleanupContainers();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(engines: Record<string, unknown>, args: string[] = []): Promise<RunningServer> {
  const file = join(dir, `c${running.length}.json`);
  writeFileSync(file, JSON.stringify({ engines }));
  const s = await startServer({ args: ['--config', file, ...args] });
  running.push(s);
  return s;
}

describe("another engine's socket", () => {
  it('is refused as a bind source on its writable neighbour, naming the socket', async () => {
    const s = await serve({ default: engine, ro: { url: `unix://${roSocket}`, readOnly: true } });
    const bind = (source: string) =>
      s.client.callTool('docker_create_container', {
        engine: 'default',
        image: TEST_IMAGE,
        network_mode: 'none',
        labels: testLabels(),
        volumes: [`${source}:/var/run/docker.sock`],
      });

    const other = errorOf(await bind(roSocket));

    expect(other.kind).toBe('policy_denied');
    expect(other.message).toContain(
      `engine 'default': volumes[0]: host path '${roSocket}' is refused: it exposes ${roSocket}`,
    );
  });
});

describe('docker_swarm_join and its manager engine', () => {
  const engines = {
    w: engine,
    prod: { url: engine, readOnly: true },
    calm: { url: engine, allowDestructive: false },
  };

  it("is refused when the manager engine's ceiling refuses handing out its join token, naming it", async () => {
    const s = await serve(engines, ['--toolsets', 'all', '--allow-destructive']);
    const token = errorOf(await s.client.callTool('docker_swarm_join_token', { engine: 'prod' }));
    const join = errorOf(
      await s.client.callTool('docker_swarm_join', { engine: 'w', manager_engine: 'prod' }),
    );
    const manager = errorOf(
      await s.client.callTool('docker_swarm_join', { engine: 'w', manager_engine: 'calm', role: 'manager' }),
    );

    expect(token.message).toContain("engine 'prod' is read-only");
    expect(join.kind).toBe('policy_denied');
    expect(join.message).toContain(
      "engine 'w': docker_swarm_join uses engine 'prod' (manager_engine) too, and docker_swarm_join_token changes state and engine 'prod' is read-only.",
    );
    expect(join.message).toContain("readOnly: false for engine 'prod' (config file, engines.prod)");
    expect(manager.message).toContain(
      "docker_swarm_join_token with 'role' is destructive and engine 'calm' does not allow destructive operations",
    );
    expect(manager.message).toContain('engines.calm');
  });

  it("is destructive with role 'manager', as docker_swarm_join_token is", async () => {
    const s = await serve(engines, ['--toolsets', 'all']);
    const out = errorOf(
      await s.client.callTool('docker_swarm_join', { engine: 'w', manager_engine: 'calm', role: 'manager' }),
    );
    expect(out.message).toContain(
      "engine 'w': docker_swarm_join with 'role' is destructive and destructive operations are disabled.",
    );
    // Worker, the default, written out: moderate, so the gate lets it reach the engines.
    const worker = errorOf(
      await s.client.callTool('docker_swarm_join', { engine: 'w', manager_engine: 'calm', role: 'worker' }),
    );
    expect(worker.message).not.toContain('is destructive');
    expect(worker.kind).not.toBe('invalid_argument');
  });
});

describe('engines named like secrets', () => {
  it('keep their errors readable, for tools, resources and prompts', async () => {
    const s = await serve({
      default: engine,
      secrets: engine,
      'private-eu': 'tcp://127.0.0.1:1',
      token: 'tcp://127.0.0.1:1',
      pw: engine,
    });
    const missing = errorOf(
      await s.client.callTool('docker_inspect_container', {
        engine: 'secrets',
        container_id: 'mcpt-mcpt-nosuch',
      }),
    );
    const down = errorOf(await s.client.callTool('docker_version', { engine: 'private-eu' }));
    const policy = errorOf(
      await s.client.callTool('docker_create_container', {
        engine: 'pw',
        image: TEST_IMAGE,
        network_mode: 'none',
        privileged: true,
        labels: testLabels(),
      }),
    );
    const raw = s.client.raw as unknown as {
      readResource(p: { uri: string }): Promise<unknown>;
      getPrompt(p: { name: string; arguments: Record<string, string> }): Promise<unknown>;
    };
    const resource = await raw.readResource({ uri: 'container://token/logs/mcpt-mcpt-nosuch' }).then(
      () => '',
      (e: Error) => e.message,
    );
    const prompt = await raw
      .getPrompt({
        name: 'troubleshoot_container',
        arguments: { engine: 'secrets', container_id: 'mcpt-mcpt-nosuch' },
      })
      .then(
        () => '',
        (e: Error) => e.message,
      );

    expect(missing.message).toContain("engine 'secrets': container 'mcpt-mcpt-nosuch' not found");
    expect(down.message).toContain("engine 'private-eu': no Docker engine answered for engine 'private-eu'");
    expect(policy.message).toContain("engine 'pw': privileged");
    expect(resource).toContain("engine 'token': no Docker engine answered");
    expect(prompt).toContain("engine 'secrets': container 'mcpt-mcpt-nosuch' not found");
    for (const m of [missing.message, down.message, policy.message, resource, prompt])
      expect(m).not.toContain('***');
  });
});

describe('a refusal by the server-wide settings', () => {
  it('names the engine the call named', async () => {
    const s = await serve({ default: engine, d1: engine }, ['--read-only']);
    const out = errorOf(
      await s.client.callTool('docker_create_container', {
        engine: 'd1',
        image: TEST_IMAGE,
        labels: testLabels(),
      }),
    );
    expect(out.message).toContain(
      "engine 'd1': docker_create_container changes state and the server is read-only.",
    );
  });
});
