/**
 * What docker_run_container says when the engine cannot start what it created, through the compiled
 * binary: a host port something else holds is a conflict naming ports and the port (retrying fails the
 * same way), and a command the image has no program for names command. Nothing is left behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { errorOf, type RunningServer, startServer } from '../helpers/client.ts';
import { cleanupContainers, containerExists, TEST_IMAGE, testLabels, uniqueName } from '../helpers/engine.ts';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
  await cleanupContainers();
});

describe('docker_run_container refused at start', () => {
  it('reports a host port held by another process as a conflict naming ports and the port', async () => {
    // This test holds the port itself, on loopback: nothing else is involved.
    const held = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
    try {
      const name = uniqueName('mcpt-port');
      const result = await server.client.callTool('docker_run_container', {
        image: TEST_IMAGE,
        name,
        command: ['sleep', '60'],
        network_mode: 'bridge',
        ports: { '80/tcp': `127.0.0.1:${held.port}` },
        labels: testLabels(),
      });
      const err = errorOf(result);
      expect(err.kind).toBe('conflict');
      expect(err.message).toContain(`host port 127.0.0.1:${held.port} in ports is already in use`);
      expect(err.message).toContain('another host port in ports');
      expect(err.message).not.toContain('retry');
      expect(await containerExists(name)).toBe(false);
    } finally {
      held.stop(true);
    }
  });

  it('says the image has no such program when the command names none, and points at command', async () => {
    const name = uniqueName('mcpt-noexec');
    const result = await server.client.callTool('docker_run_container', {
      image: TEST_IMAGE,
      name,
      command: ['nosuchbin'],
      network_mode: 'none',
      labels: testLabels(),
    });
    const err = errorOf(result);
    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain('nosuchbin');
    expect(err.message).toContain('Check command (and entrypoint): the image has no such program.');
    expect(err.message).toContain('the container this call created was removed');
    expect(await containerExists(name)).toBe(false);
  });

  it('says a container run with remove that failed to start was removed, as the engine removed it itself', async () => {
    const name = uniqueName('mcpt-noexec-rm');
    const result = await server.client.callTool('docker_run_container', {
      image: TEST_IMAGE,
      name,
      command: ['/app/start.sh'],
      network_mode: 'none',
      remove: true,
      labels: testLabels(),
    });
    const err = errorOf(result);
    expect(err.message).toContain('the container this call created was removed');
    expect(err.message).not.toContain('is left');
    expect(await containerExists(name)).toBe(false);
  });
});
