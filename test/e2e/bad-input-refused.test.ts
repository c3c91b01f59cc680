/**
 * Bad input refused before the engine is asked, and before the user is, through the compiled binary:
 * prompts/get and resources/read params of the wrong type (-32602 naming the param), prompt arguments
 * and URI parts that cannot name a container or are blank, a Compose project name Compose would
 * refuse, an empty Compose file, a volume or network driver no plugin can have (the engine would spend
 * 15 s looking it up), a predefined network reached by an ID prefix and a blank swarm address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import type { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  GetPromptResultSchema,
  McpError,
  ReadResourceResultSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { errorOf, type RunningServer, startServer } from '../helpers/client.ts';
import { askingClient } from '../helpers/elicit.ts';
import { testDocker, uniqueName } from '../helpers/engine.ts';

let server: RunningServer;
const docker = testDocker();
const VOLUME = uniqueName('mcpt-badin-vol');
const NETWORK = uniqueName('mcpt-badin-net');

beforeAll(async () => {
  server = await startServer({
    client: 'v1',
    args: ['--toolsets', 'all', '--allow-destructive'],
  });
});
afterAll(async () => {
  await server?.close();
  await docker
    .getVolume(VOLUME)
    .remove()
    .catch(() => undefined);
  await docker
    .getNetwork(NETWORK)
    .remove()
    .catch(() => undefined);
});

/** The protocol error a raw request gets (its code and message). */
async function protocolError(method: string, params: unknown): Promise<{ code: number; message: string }> {
  const raw = server.client.raw as V1Client;
  const schema = method === 'prompts/get' ? GetPromptResultSchema : ReadResourceResultSchema;
  try {
    await raw.request({ method, params } as never, schema);
  } catch (e) {
    if (e instanceof McpError) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error(`${method} was answered`);
}

const INVALID_PARAMS = -32602;

describe('prompts/get and resources/read params of the wrong type', () => {
  for (const [method, params, named] of [
    [
      'prompts/get',
      { name: 'debug_networking', arguments: { container_id: 42 } },
      `'arguments' value "container_id"`,
    ],
    [
      'prompts/get',
      { name: 'debug_networking', arguments: { container_id: null } },
      `'arguments' value "container_id"`,
    ],
    ['prompts/get', { name: 'debug_networking', arguments: ['x'] }, "'arguments' must be an object"],
    ['prompts/get', { arguments: {} }, "'name' is required"],
    ['resources/read', { uri: 42 }, "'uri' must be a string, got number"],
    ['resources/read', {}, "'uri' is required"],
  ] as const)
    it(`are invalid params naming the param: ${method} ${JSON.stringify(params)}`, async () => {
      const e = await protocolError(method, params);
      expect(e.code).toBe(INVALID_PARAMS);
      expect(e.message).toContain(`invalid ${method} params: ${named}`);
      expect(e.message).not.toContain('invalid_type');
    });
});

describe('prompt arguments and URI parts that cannot name a container', () => {
  const refusedRef = "invalid argument 'container_id': has characters or a shape not allowed here";

  for (const prompt of ['debug_networking', 'troubleshoot_container', 'optimize_container', 'security_audit'])
    it(`are refused naming the argument, as the tools refuse them: ${prompt}`, async () => {
      const e = await protocolError('prompts/get', {
        name: prompt,
        arguments: { container_id: 'mcpt\u0000x\nINJECTED: y' },
      });
      expect(e.code).toBe(INVALID_PARAMS);
      expect(e.message).toContain(refusedRef);
    });

  for (const uri of [
    'container://logs/%00',
    'container://logs/a%0Ab',
    'container://stats/..%2F..%2Fetc',
    'container://logs/..%2F..%2Finfo%3F',
  ])
    it(`are refused in a resource URI before the engine is asked: ${uri}`, async () => {
      const e = await protocolError('resources/read', { uri });
      expect(e.code).toBe(INVALID_PARAMS);
      expect(e.message).toContain(refusedRef);
      expect(e.message).not.toContain('HTTP code');
    });

  it('a blank one is refused, not taken as every running container', async () => {
    for (const [name, arg, value] of [
      ['security_audit', 'container_id', '  \t '],
      ['generate_compose', 'container_ids', ',, ,'],
    ]) {
      const e = await protocolError('prompts/get', { name, arguments: { [arg as string]: value } });
      expect(e.code).toBe(INVALID_PARAMS);
      expect(e.message).toContain(`invalid argument '${arg}': names no container`);
    }
  });
});

describe('Compose project names and content', () => {
  it('refuses a project name Compose would refuse, naming the argument and the name it may mean', async () => {
    for (const tool of ['docker_compose_config', 'docker_compose_ps', 'docker_compose_down']) {
      const args =
        tool === 'docker_compose_config'
          ? { project_name: 'MCPT-Badin.Proj', content: 'services:\n  a:\n    image: x\n' }
          : { project_name: 'MCPT-Badin.Proj' };
      const error = errorOf(await server.client.callTool(tool, args));
      expect(error.kind).toBe('invalid_argument');
      expect(error.message).toContain(
        `invalid argument 'project_name': "MCPT-Badin.Proj" is not a Compose project name`,
      );
      // The hint, after the message: the name it may mean.
      expect(error.message).toContain("Pass 'mcpt-badinproj' if that is the project you mean.");
    }
  });

  it('refuses an empty or blank compose file, as Compose does', async () => {
    for (const tool of ['docker_compose_up', 'docker_compose_config'])
      for (const content of ['', '   ', '# nothing\n']) {
        const error = errorOf(await server.client.callTool(tool, { project_name: 'mcpt-badin', content }));
        expect(error.kind).toBe('invalid_argument');
        expect(error.message).toContain("'content' is an empty compose file");
      }
  });

  it('refuses an up with no services to start instead of answering success', async () => {
    const error = errorOf(
      await server.client.callTool('docker_compose_up', {
        project_name: 'mcpt-badin',
        content: 'services: {}\n',
      }),
    );
    expect(error.kind).toBe('invalid_argument');
    expect(error.message).toContain("project 'mcpt-badin' has no services to start");
  });
});

describe('a driver no plugin can have', () => {
  for (const [tool, args] of [
    ['docker_create_volume', { name: VOLUME, driver: '   \t ' }],
    ['docker_create_volume', { name: VOLUME, driver: 'Local' }],
    ['docker_create_network', { name: NETWORK, driver: 'mcpt\u0000x\nINJECTED: y' }],
  ] as const)
    it(`is refused naming driver, without the engine's plugin lookup: ${tool} ${JSON.stringify(args.driver)}`, async () => {
      const error = errorOf(await server.client.callTool(tool, args));
      expect(error.kind).toBe('invalid_argument');
      expect(error.message).toContain(
        "invalid argument 'driver': has characters or a shape not allowed here",
      );
      // The engine's answer would name its plugin lookup ("error looking up volume plugin").
      expect(error.message).not.toContain('plugin "');
    });

  it('leaves nothing made', async () => {
    expect(
      await docker
        .getVolume(VOLUME)
        .inspect()
        .catch(() => 'none'),
    ).toBe('none');
    expect(
      await docker
        .getNetwork(NETWORK)
        .inspect()
        .catch(() => 'none'),
    ).toBe('none');
  });
});

describe('what the user is never asked about', () => {
  it('a predefined network reached by an ID prefix is refused before the question', async () => {
    const bridge = (await docker.listNetworks({ filters: { name: ['^bridge$'] } }))[0];
    expect(bridge?.Name).toBe('bridge');
    const client = await askingClient({ kind: 'v1', args: ['--allow-destructive'], answer: () => 'decline' });
    try {
      const error = errorOf(
        await client.callTool('docker_remove_network', { network_id: (bridge?.Id ?? '').slice(0, 6) }),
      );
      expect(error.kind).toBe('invalid_argument');
      expect(error.message).toContain("network 'bridge' is predefined by the engine and cannot be removed");
      expect(client.asked).toEqual([]);
    } finally {
      await client.close();
    }
  }, 60_000);

  it('a blank or control-character swarm address is refused before the question', async () => {
    const client = await askingClient({
      kind: 'v1',
      args: ['--toolsets', 'swarm', '--confirm', 'all'],
      answer: () => 'decline',
    });
    try {
      for (const advertise_addr of ['   \t ', 'mcpt\u0000x\nINJECTED: y']) {
        const error = errorOf(await client.callTool('docker_swarm_init', { advertise_addr }));
        expect(error.kind).toBe('invalid_argument');
        expect(error.message).toContain("invalid argument 'advertise_addr'");
      }
      expect(client.asked).toEqual([]);
    } finally {
      await client.close();
    }
  }, 60_000);
});
