/**
 * docker_stack_deploy and docker_service_inspect through the compiled binary, on the test Swarm: a
 * deploy the engine refuses part-way says which service and key it refused, with a kind to act on,
 * and what it had made; what a swarm cannot honour (a port's host address, device reservations) is
 * named in `ignored`, and generic resources reach the service as `docker stack deploy` sends them;
 * the inspected service shows its command as it runs and its env list as it is, with no fence
 * lines inside it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { errorOf, startServer, structured, textOf } from '../helpers/client.ts';
import { withSwarm } from '../helpers/swarm.ts';

const swarm = withSwarm();
const IMAGE = process.env.MCP_DOCKER_TEST_IMAGE ?? 'mcp-test/busybox:latest';
const tag = `${process.pid}`;
const HALF = `mcpt-half${tag}`;
const KEPT = `mcpt-kept${tag}`;
let server: Awaited<ReturnType<typeof startServer>>;

beforeAll(async () => {
  server = await startServer({
    args: ['--toolsets', 'swarm', '--allow-destructive', '--confirm', 'none'],
    env: { DOCKER_HOST: swarm().manager.host },
  });
});

afterAll(async () => {
  await server?.close();
  for (const stack of [HALF, KEPT])
    try {
      swarm().cli(['stack', 'rm', stack]);
    } catch {
      // not there
    }
}, 60_000);

const sleeper = 'trap "exit 0" TERM; sleep 3600 & wait';

describe('docker_stack_deploy refused by the engine part-way', () => {
  it('names the service and key, says invalid_argument, and lists what it had made', async () => {
    const content = [
      'services:',
      '  a:',
      `    image: ${IMAGE}`,
      `    command: ["sh", "-c", '${sleeper}']`,
      '  b:',
      `    image: ${IMAGE}`,
      '    deploy:',
      '      placement:',
      '        constraints: ["node.labels.x ~~ bogus"]',
    ].join('\n');
    const r = await server.client.callTool('docker_stack_deploy', { content, project_name: HALF });
    const e = errorOf(r);
    expect(e.kind).toBe('invalid_argument');
    const text = textOf(r);
    expect(text).toContain(
      'service "b" (key deploy.placement.constraints): constraint expected one operator',
    );
    expect(text).not.toContain('rpc error');
    expect(text).toContain(
      `done before it stopped: network ${HALF}_default created, service ${HALF}_a created`,
    );
    expect(text).toContain('docker_stack_remove');
    // The engine holds what the error says was made, and nothing of b.
    const services = swarm().cli([
      'service',
      'ls',
      '--format',
      '{{.Name}}',
      '--filter',
      `label=com.docker.stack.namespace=${HALF}`,
    ]);
    expect(services.trim().split('\n')).toEqual([`${HALF}_a`]);
  }, 60_000);
});

describe('docker_stack_deploy and what a swarm cannot honour', () => {
  it("names a port's host address and device reservations in ignored, and maps generic resources", async () => {
    const content = [
      'services:',
      '  web:',
      `    image: ${IMAGE}`,
      `    command: ["sh", "-c", '${sleeper}']`,
      '    ports: ["127.0.0.1:18080:80", "18081:81"]',
      '    deploy:',
      '      replicas: 0',
      '      resources:',
      '        reservations:',
      '          generic_resources:',
      '            - discrete_resource_spec: {kind: gpu, value: 2}',
      '          devices:',
      '            - capabilities: [gpu]',
    ].join('\n');
    const r = await server.client.callTool('docker_stack_deploy', { content, project_name: KEPT });
    const out = structured<{ ignored?: string[] }>(r);
    expect(out.ignored).toEqual([
      `${KEPT}_web: ports[0].host_ip 127.0.0.1 (a swarm publishes on every interface of every node)`,
      `${KEPT}_web: deploy.resources.reservations.devices (a swarm service has no devices; see generic_resources)`,
    ]);
    const spec = JSON.parse(
      swarm().cli(['service', 'inspect', `${KEPT}_web`, '--format', '{{json .Spec.TaskTemplate.Resources}}']),
    );
    expect(spec.Reservations.GenericResources).toEqual([{ DiscreteResourceSpec: { Kind: 'gpu', Value: 2 } }]);
  }, 60_000);
});

describe('docker_service_inspect of a service with secrets in its env', () => {
  it('shows the command as it runs and the env list as it is, masked, with no fence lines inside', async () => {
    const name = `mcpt-insp${tag}`;
    const script = 'echo line1; echo DB_PASSWORD=$DB_PASSWORD; echo TOKEN=$TOKEN; sleep 3600';
    try {
      const made = await server.client.callTool('docker_service_create', {
        name,
        image: IMAGE,
        command: ['sh', '-c', script],
        env: { DB_PASSWORD: 'hunter2', TOKEN: 's3cr3t' },
        replicas: 0,
        labels: swarm().labels,
      });
      expect(made.isError).toBeFalsy();
      for (const full of [false, true]) {
        const r = await server.client.callTool('docker_service_inspect', { service: name, full });
        const doc = structured<Record<string, unknown>>(r);
        const c = full
          ? (doc as { Spec: { TaskTemplate: { ContainerSpec: { Args: string[]; Env: string[] } } } }).Spec
              .TaskTemplate.ContainerSpec
          : { Args: doc.command as string[], Env: doc.env as string[] };
        expect(c.Args).toEqual(['sh', '-c', script]);
        expect([...c.Env].sort()).toEqual(['DB_PASSWORD=***', 'TOKEN=***']);
        expect(textOf(r)).not.toContain('hunter2');
        expect(textOf(r)).not.toContain('s3cr3t');
      }
    } finally {
      await server.client.callTool('docker_service_remove', { service: name });
    }
  }, 60_000);
});
