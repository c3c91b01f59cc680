/**
 * --confirm for the swarm's destructive tools through the compiled binary, on the test Swarm: each
 * question is computed from the engine and names what goes (a secret or config by its name, which
 * is no secret; a node by hostname, role, availability and its running tasks; a stack's services,
 * secrets, configs and networks), a decline changes nothing, and an accepted question acts only on
 * the object it showed; a deploy with prune names the services it removes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { errorOf, startServer, structured } from '../helpers/client.ts';
import { type AskingClient, askingClient, type UserAnswer } from '../helpers/elicit.ts';
import { withSwarm } from '../helpers/swarm.ts';

const swarm = withSwarm();
const IMAGE = process.env.MCP_DOCKER_TEST_IMAGE ?? 'mcp-test/busybox:latest';
const tag = `${process.pid}`;
const STACK = `mcpt-conf${tag}`;
const SECRET = `mcpt-db_password${tag}`;
const CONFIG = `mcpt-conf_file${tag}`;
const SERVICE = `mcpt-confsvc${tag}`;
const PRUNED = `mcpt-prune${tag}`;
const services = (...names: string[]) =>
  [
    'services:',
    ...names.flatMap((n) => [`  ${n}:`, `    image: ${IMAGE}`, '    deploy: {replicas: 0}']),
  ].join('\n');

let answer: UserAnswer = 'decline';
let onAsk: () => Promise<void> = async () => {};
let client: AskingClient;

const make = async (kind: 'secrets' | 'configs', name: string) =>
  (
    await swarm().raw<{ ID: string }>('manager', 'POST', `/${kind}/create`, {
      Name: name,
      Data: Buffer.from('hunter2').toString('base64'),
      Labels: swarm().labels,
    })
  ).ID;
const exists = async (path: string) =>
  swarm()
    .raw('manager', 'GET', path)
    .then(
      () => true,
      () => false,
    );

beforeAll(async () => {
  await make('secrets', SECRET);
  await make('configs', CONFIG);
  // A stack with a secret, a config and a network of its own, deployed without any question.
  const setup = await startServer({
    args: ['--toolsets', 'swarm'],
    env: { DOCKER_HOST: swarm().manager.host },
  });
  try {
    const content = [
      'services:',
      '  web:',
      `    image: ${IMAGE}`,
      '    deploy: {replicas: 0}',
      '    secrets: [pw]',
      '    configs: [cf]',
      'secrets:',
      '  pw: {environment: PW}',
      'configs:',
      '  cf: {content: "x"}',
    ].join('\n');
    structured(
      await setup.client.callTool('docker_stack_deploy', { content, project_name: STACK, env: { PW: 'pw' } }),
    );
    structured(
      await setup.client.callTool('docker_stack_deploy', {
        content: services('a', 'b'),
        project_name: PRUNED,
      }),
    );
    structured(
      await setup.client.callTool('docker_service_create', {
        name: SERVICE,
        image: IMAGE,
        replicas: 0,
        labels: swarm().labels,
      }),
    );
  } finally {
    await setup.close();
  }
  client = await askingClient({
    kind: 'v1',
    args: ['--toolsets', 'swarm', '--allow-destructive'],
    env: { DOCKER_HOST: swarm().manager.host },
    answer: async () => {
      await onAsk();
      return answer;
    },
  });
}, 60_000);

afterAll(async () => {
  await client?.close();
  for (const stack of [STACK, PRUNED])
    try {
      swarm().cli(['stack', 'rm', stack]);
    } catch {
      // gone
    }
  await swarm().cleanup();
  for (const [kind, name] of [
    ['secrets', SECRET],
    ['configs', CONFIG],
  ])
    await swarm()
      .raw('manager', 'DELETE', `/${kind}/${name}`)
      .catch(() => undefined);
}, 60_000);

/** The question a call put, declined: the call ends cancelled, nothing changed. */
async function declined(tool: string, args: Record<string, unknown>): Promise<string> {
  answer = 'decline';
  client.asked.length = 0;
  const r = await client.callTool(tool, args);
  expect(errorOf(r).kind).toBe('cancelled');
  expect(client.asked).toHaveLength(1);
  return client.asked[0]?.message ?? '';
}

describe('questions for the swarm destructive tools', () => {
  it('names the secret and the config removed, by name and ID', async () => {
    const q = await declined('docker_secret_remove', { secret: SECRET });
    expect(q).toContain(`remove secret '${SECRET}' (`);
    expect(q).toContain(`1 object will go: secret ${SECRET}.`);
    expect(q).not.toContain('***');
    expect(await exists(`/secrets/${SECRET}`)).toBe(true);
    const c = await declined('docker_config_remove', { config: CONFIG });
    expect(c).toContain(`remove config '${CONFIG}' (`);
    expect(await exists(`/configs/${CONFIG}`)).toBe(true);
  });

  it('names the node by hostname, with its role, availability and running tasks', async () => {
    const nodes = await swarm().raw<{ ID: string; Description: { Hostname: string } }[]>(
      'manager',
      'GET',
      '/nodes',
    );
    const worker = nodes.find((n) => n.Description.Hostname === swarm().worker.hostname);
    const q = await declined('docker_node_remove', { node: worker?.ID.slice(0, 12) });
    expect(q).toContain(
      `remove node '${swarm().worker.hostname}' (${worker?.ID.slice(0, 12)}; worker; active; ready;`,
    );
    expect(q).toMatch(/\d+ task\(s\) running there\) from the swarm/);
    expect(await exists(`/nodes/${worker?.ID}`)).toBe(true);
  });

  it("lists the stack's services, secrets, configs and networks", async () => {
    const q = await declined('docker_stack_remove', { stack: STACK });
    expect(q).toContain(`remove stack '${STACK}': 1 service, 1 secret, 1 config, 1 network`);
    expect(q).toContain(
      `4 objects will go: service ${STACK}_web, secret ${STACK}_pw, config ${STACK}_cf, network ${STACK}_default.`,
    );
    expect(await exists(`/services/${STACK}_web`)).toBe(true);
  });

  it('names the service with its image and replicas', async () => {
    const q = await declined('docker_service_remove', { service: SERVICE });
    expect(q).toContain(`remove service '${SERVICE}' (`);
    expect(q).toContain('replicated, 0/0 running) and stop its tasks');
    expect(await exists(`/services/${SERVICE}`)).toBe(true);
  });

  it('says what leaving means for this engine', async () => {
    const q = await declined('docker_swarm_leave', { force: true });
    expect(q).toMatch(/this engine \(node \w+, a manager\) leaves swarm \w+; it is the only manager/);
  });
});

describe('docker_stack_deploy with prune', () => {
  it('names the services it removes, and removes them when the user accepts', async () => {
    const args = { content: services('a'), project_name: PRUNED, prune: true };
    const q = await declined('docker_stack_deploy', args);
    expect(q).toContain(`deploy stack '${PRUNED}' and remove its services the file no longer has`);
    expect(q).toContain(`1 object will go: service ${PRUNED}_b.`);
    expect(await exists(`/services/${PRUNED}_b`)).toBe(true);
    answer = 'accept';
    const r = await client.callTool('docker_stack_deploy', args);
    expect(structured<{ steps: string[] }>(r).steps).toContain(`service ${PRUNED}_b removed`);
    expect(await exists(`/services/${PRUNED}_b`)).toBe(false);
    expect(await exists(`/services/${PRUNED}_a`)).toBe(true);
  }, 60_000);
});

describe('an accepted question acts on what it showed', () => {
  it('refuses when the secret was replaced by another of the same name meanwhile, and removes nothing', async () => {
    const before = await swarm().raw<{ ID: string }>('manager', 'GET', `/secrets/${SECRET}`);
    let replaced = '';
    onAsk = async () => {
      await swarm().raw('manager', 'DELETE', `/secrets/${SECRET}`);
      replaced = await make('secrets', SECRET);
    };
    answer = 'accept';
    try {
      const r = await client.callTool('docker_secret_remove', { secret: SECRET });
      const e = errorOf(r);
      expect(e.kind).toBe('conflict');
      expect(e.message).toContain('is not what the user was asked about');
    } finally {
      onAsk = async () => {};
    }
    expect(replaced).not.toBe(before.ID);
    expect((await swarm().raw<{ ID: string }>('manager', 'GET', `/secrets/${SECRET}`)).ID).toBe(replaced);
  });

  it('removes the stack it listed when the user accepts, and leaves a service added meanwhile', async () => {
    // While the question is open, a service joins the stack (its label) on the stack's network.
    const late = `${STACK}_late`;
    onAsk = async () => {
      await swarm().raw('manager', 'POST', '/services/create', {
        Name: late,
        Labels: { ...swarm().labels, 'com.docker.stack.namespace': STACK },
        TaskTemplate: { ContainerSpec: { Image: IMAGE }, Networks: [{ Target: `${STACK}_default` }] },
        Mode: { Replicated: { Replicas: 0 } },
      });
    };
    answer = 'accept';
    try {
      const r = await client.callTool('docker_stack_remove', { stack: STACK });
      const out = structured<{ removed: boolean; steps: string[]; left?: string[] }>(r);
      expect(out.removed).toBe(true);
      expect(out.steps).toEqual([
        `service ${STACK}_web removed`,
        `secret ${STACK}_pw removed`,
        `config ${STACK}_cf removed`,
      ]);
      expect(out.left).toEqual([`service ${late}`, `network ${STACK}_default (used by service ${late})`]);
    } finally {
      onAsk = async () => {};
    }
    expect(await exists(`/services/${STACK}_web`)).toBe(false);
    expect(await exists(`/services/${late}`)).toBe(true);
  }, 60_000);
});
