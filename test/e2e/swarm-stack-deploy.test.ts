/**
 * docker_stack_deploy through the compiled binary, on the test Swarm: a deploy the engine refuses
 * part-way says which service and key it refused, with a kind to act on, and what it had made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { errorOf, startServer, textOf } from '../helpers/client.ts';
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
