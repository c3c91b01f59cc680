/**
 * The host network named by its ID, not its name: the engine puts a container given it on the host
 * network all the same, so the boundary refuses it at create, and at start for one made elsewhere.
 */
import { afterAll, describe, expect, it } from 'bun:test';
import {
  cleanupContainers,
  found,
  TEST_IMAGE,
  testDocker,
  testLabels,
  uniqueName,
} from '../helpers/engine.ts';
import { callErr } from '../helpers/pipeline.ts';

afterAll(cleanupContainers);

const hostId = async () => (await testDocker().getNetwork('host').inspect()).Id as string;

describe('the host network by its ID', () => {
  it('is refused at create, as network_mode, a short ID or in networks, and nothing is made', async () => {
    const id = await hostId();
    for (const extra of [{ network_mode: id }, { network_mode: id.slice(0, 12) }, { networks: [id] }]) {
      const name = uniqueName('mcpt');
      const err = await callErr('docker_create_container', {
        image: TEST_IMAGE,
        name,
        labels: testLabels(),
        ...extra,
      });
      expect(err.kind).toBe('policy_denied');
      expect(err.message).toMatch(/is the host network, refused/);
      expect(await found(testDocker().getContainer(name).inspect())).toBe(false);
    }
  });

  it('is refused at start for a container made on it elsewhere', async () => {
    const c = await testDocker().createContainer({
      name: uniqueName('mcpt'),
      Image: TEST_IMAGE,
      Cmd: ['true'],
      Labels: testLabels(),
      HostConfig: { NetworkMode: await hostId() },
    });
    const err = await callErr('docker_start_container', { container_id: c.id });
    expect(err.kind).toBe('policy_denied');
    expect(err.message).toMatch(/HostConfig\.NetworkMode: network '[0-9a-f]+' is the host network, refused/);
    expect((await c.inspect()).State.Status).toBe('created');
  });
});
