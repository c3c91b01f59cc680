import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import {
  cleanupContainers,
  found,
  makeContainer,
  RUN_ID,
  TEST_IMAGE,
  TEST_LABEL,
  testDocker,
  testLabels,
  uniqueName,
} from '../helpers/engine.ts';
import { callErr, callOk } from '../helpers/pipeline.ts';
import { podmanDiffers } from '../helpers/podman.ts';

// Networks here are internal (no route out) and let the engine pick subnets, so concurrent runs on
// one engine never clash. Containers on them are never sent traffic.
const OURS = `${TEST_LABEL}=${RUN_ID}`;

async function removeOurNetworks() {
  const docker = testDocker();
  for (const n of await docker.listNetworks({ filters: { label: [OURS] } }))
    await docker
      .getNetwork(n.Id)
      .remove()
      .catch(() => undefined);
}

afterAll(async () => {
  await cleanupContainers();
  await removeOurNetworks();
});

interface Summary {
  id: string;
  name: string;
  driver: string;
  internal: boolean;
  ipam: { subnet: string; gateway?: string }[];
  labels?: Record<string, string>;
  containers: Record<string, string>;
}
interface Attachment {
  network: string;
  container: string;
  connected: boolean;
  ipv4_address?: string;
  aliases?: string[];
}

const makeNetwork = async (extra: Record<string, string> = {}) => {
  const name = uniqueName('mcpt-net');
  const net = await testDocker().createNetwork({
    Name: name,
    Internal: true,
    CheckDuplicate: true,
    Labels: { ...testLabels(), ...extra },
  });
  return { id: net.id, name };
};

/** A labelled container on `network` (not none), so it can be connected elsewhere. */
async function containerOn(network: string, start = true) {
  const name = uniqueName('mcpt');
  const c = await testDocker().createContainer({
    name,
    Image: TEST_IMAGE,
    Cmd: ['sleep', '3600'],
    Labels: testLabels(),
    HostConfig: { NetworkMode: network },
  });
  if (start) await c.start();
  return { id: c.id, name };
}

const networksOf = async (container: string) =>
  Object.keys((await testDocker().getContainer(container).inspect()).NetworkSettings.Networks);
const networkExists = (ref: string) => found(testDocker().getNetwork(ref).inspect());

let home: { id: string; name: string };
beforeAll(async () => {
  home = await makeNetwork();
});

describe('docker_create_network', () => {
  it('creates an internal bridge network with labels on a subnet the engine picks', async () => {
    const name = uniqueName('mcpt-net');

    const out = await callOk<Summary>('docker_create_network', {
      name,
      internal: true,
      labels: { ...testLabels(), role: 'test' },
    });

    expect(out).toMatchObject({ name, driver: 'bridge', internal: true, containers: {} });
    expect(out.labels).toMatchObject({ role: 'test' });
    expect(out.ipam[0]?.subnet).toMatch(/^\d+\.\d+\.\d+\.\d+\/\d+$/);
    const info = await testDocker().getNetwork(name).inspect();
    expect(info.Internal).toBe(true);
    expect(info.Id.startsWith(out.id)).toBe(true);
  });

  it('answers conflict naming a network that already exists, and creates no second one', async () => {
    const err = await callErr('docker_create_network', { name: home.name, labels: testLabels() });

    expect(err.kind).toBe('conflict');
    expect(err.message).toContain(`'${home.name}'`);
    expect(await testDocker().listNetworks({ filters: { name: [`^${home.name}$`] } })).toHaveLength(1);
  });

  it('refuses a gateway without a subnet, naming the field', async () => {
    const err = await callErr('docker_create_network', {
      name: uniqueName('mcpt-net'),
      gateway: '10.99.0.1',
    });

    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain("'gateway'");
    expect(err.hint).toContain('subnet');
  });
});

describe('docker_list_networks', () => {
  it('lists the predefined networks and ours, one compact row each', async () => {
    const out = await callOk<{ networks: Record<string, unknown>[]; count: number }>('docker_list_networks');

    const names = out.networks.map((n) => n.name);
    const predefined = podmanDiffers('no-host-none-networks') ? ['bridge'] : ['bridge', 'host', 'none'];
    expect(names).toEqual(expect.arrayContaining([...predefined, home.name]));
    expect(out.count).toBe(out.networks.length);
    const row = out.networks.find((n) => n.name === home.name);
    expect(row).toMatchObject({ id: home.id.slice(0, 12), driver: 'bridge', scope: 'local', internal: true });
    expect(Object.keys(row ?? {}).sort()).toEqual(['driver', 'id', 'internal', 'name', 'scope', 'subnets']);
  });

  it('narrows with engine filters and limit', async () => {
    const byLabel = await callOk<{ networks: { name: string }[] }>('docker_list_networks', {
      filters: { label: [OURS], name: [home.name] },
    });
    expect(byLabel.networks.map((n) => n.name)).toEqual([home.name]);

    const limited = await callOk<{ count: number }>('docker_list_networks', { limit: 2 });
    expect(limited.count).toBe(2);
  });
});

describe('docker_inspect_network', () => {
  it("summarises a network with its running containers' addresses", async () => {
    const c = await containerOn(home.name);

    const out = await callOk<Summary>('docker_inspect_network', { network_id: home.name });

    expect(out).toMatchObject({ name: home.name, driver: 'bridge', internal: true });
    expect(out.containers[c.name]).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(out.labels).toEqual(testLabels());
  });

  it('returns the engine document with full: true, by ID too', async () => {
    const out = await callOk('docker_inspect_network', { network_id: home.id.slice(0, 12), full: true });

    expect(out).toMatchObject({ Id: home.id, Name: home.name, Internal: true });
    expect(out.IPAM).toBeDefined();
  });

  it('answers not_found naming the close candidates and the list tool', async () => {
    const err = await callErr('docker_inspect_network', { network_id: `${home.name}x` });

    expect(err.kind).toBe('not_found');
    expect(err.message).toBe(`network '${home.name}x' not found`);
    expect(err.hint).toContain(`'${home.name}'`);
    expect(err.hint).toContain('docker_list_networks');
  });
});

describe('docker_connect_container', () => {
  it('attaches a running container with aliases and reports its address', async () => {
    const other = await makeNetwork();
    const c = await containerOn(home.name);

    const out = await callOk<Attachment>('docker_connect_container', {
      network_id: other.name,
      container_id: c.name,
      aliases: ['db', 'db.local'],
    });

    expect(out).toMatchObject({ network: other.name, container: c.name, connected: true });
    expect(out.aliases).toEqual(expect.arrayContaining(['db', 'db.local']));
    expect(out.ipv4_address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await networksOf(c.name)).toEqual(expect.arrayContaining([home.name, other.name]));
  });

  it('answers conflict when the container is already on the network', async () => {
    const c = await containerOn(home.name, false);

    const err = await callErr('docker_connect_container', { network_id: home.id, container_id: c.name });

    expect(err.kind).toBe('conflict');
    expect(err.message).toContain('already connected');
    expect(err.hint).toContain('docker_disconnect_container');
  });

  it("refuses a container on network 'none', naming the fix", async () => {
    const { name } = await makeContainer({ start: false });

    const err = await callErr('docker_connect_container', { network_id: home.name, container_id: name });

    expect(err.kind).toBe('conflict');
    expect(err.message).toContain("'none'");
    if (podmanDiffers('none-network-is-fixed')) {
      expect(err.message).toContain('Podman cannot change that');
      expect(err.hint).toContain('docker_create_container');
      expect(await networksOf(name)).toEqual([]);
      return;
    }
    expect(err.hint).toContain('docker_disconnect_container');
    expect(await networksOf(name)).toEqual(['none']);
  });

  it('passes an address the engine refuses back as invalid_argument', async () => {
    const c = await containerOn(home.name, false);

    // A fixed address needs a user-configured subnet; 'bridge' has none.
    const args = { network_id: 'bridge', container_id: c.name, ipv4_address: '172.17.0.250' };
    if (podmanDiffers('address-checked-at-start')) {
      expect(await callOk('docker_connect_container', args)).toMatchObject({ network: 'bridge' });
      expect((await networksOf(c.name)).sort()).toEqual([home.name, 'podman'].sort());
      return;
    }
    const err = await callErr('docker_connect_container', args);

    expect(err.kind).toBe('invalid_argument');
    expect(await networksOf(c.name)).toEqual([home.name]);
  });

  it('answers not_found for an unknown container or network', async () => {
    const c = await containerOn(home.name, false);

    const noContainer = await callErr('docker_connect_container', {
      network_id: home.name,
      container_id: uniqueName('mcpt-none'),
    });
    const noNetwork = await callErr('docker_connect_container', {
      network_id: uniqueName('mcpt-none'),
      container_id: c.name,
    });

    expect(noContainer.kind).toBe('not_found');
    expect(noContainer.message).toContain('container');
    expect(noNetwork.kind).toBe('not_found');
    expect(noNetwork.message).toContain('network');
  });
});

describe('docker_disconnect_container', () => {
  it('detaches a container, and repeating it is not an error', async () => {
    const other = await makeNetwork();
    const c = await containerOn(home.name);
    await testDocker().getNetwork(other.id).connect({ Container: c.id });

    const out = await callOk<Attachment>('docker_disconnect_container', {
      network_id: other.name,
      container_id: c.name,
    });
    const again = await callOk<Attachment>('docker_disconnect_container', {
      network_id: other.name,
      container_id: c.name,
    });

    expect(out).toEqual({ network: other.name, container: c.name, connected: false });
    expect(again).toEqual(out);
    expect(await networksOf(c.name)).toEqual([home.name]);
  });
});

describe('docker_remove_network', () => {
  it('removes an unused network', async () => {
    const net = await makeNetwork();

    const out = await callOk('docker_remove_network', { network_id: net.name });

    expect(out).toEqual({ id: net.id.slice(0, 12), name: net.name, removed: true });
    expect(await networkExists(net.id)).toBe(false);
  });

  it.each(['bridge', 'host', 'none'])('refuses the predefined network %p', async (name) => {
    const err = await callErr('docker_remove_network', { network_id: name });
    if (name !== 'bridge' && podmanDiffers('no-host-none-networks')) {
      expect(err.kind).toBe('not_found');
      return;
    }

    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain('predefined');
    expect(await networkExists(name)).toBe(true);
  });

  it('refuses a network with attached containers, stopped ones too, naming them and the fix', async () => {
    const net = await makeNetwork();
    const running = await containerOn(net.name);
    const stopped = await containerOn(net.name, false);

    const err = await callErr('docker_remove_network', { network_id: net.name });

    expect(err.kind).toBe('conflict');
    expect(err.message).toContain(`'${running.name}'`);
    expect(err.message).toContain(`'${stopped.name}'`);
    expect(err.hint).toContain('docker_disconnect_container');
    expect(await networkExists(net.id)).toBe(true);

    for (const c of [running, stopped])
      await callOk('docker_disconnect_container', { network_id: net.name, container_id: c.name });
    expect(await callOk('docker_remove_network', { network_id: net.name })).toMatchObject({ removed: true });
  });

  it('is refused when destructive tools are off', async () => {
    const err = await callErr(
      'docker_remove_network',
      { network_id: home.name },
      { profile: { allowDestructive: false } },
    );

    expect(err.kind).toBe('policy_denied');
    expect(await networkExists(home.id)).toBe(true);
  });
});

describe('docker_prune_networks', () => {
  it('removes only unused networks matching the filter, naming stopped containers left behind', async () => {
    const batch = { 'mcpt-batch': uniqueName('b') };
    const unused = await makeNetwork(batch);
    const inUse = await makeNetwork(batch);
    const stoppedOnly = await makeNetwork(batch);
    const unrelated = await makeNetwork();
    await containerOn(inUse.name);
    const stopped = await containerOn(stoppedOnly.name, false);

    const out = await callOk<{ removed: string[]; count: number; stranded?: string[] }>(
      'docker_prune_networks',
      { filters: { label: [OURS, `mcpt-batch=${batch['mcpt-batch']}`] } },
    );

    if (podmanDiffers('prune-keeps-stopped-users')) {
      expect(out.removed).toEqual([unused.name]);
      expect(await networkExists(stoppedOnly.id)).toBe(true);
      expect(await networkExists(inUse.id)).toBe(true);
      expect(await networkExists(unrelated.id)).toBe(true);
      expect(stopped.name).toBeDefined();
      return;
    }
    // The engine counts only running containers as users.
    expect(out.removed.sort()).toEqual([unused.name, stoppedOnly.name].sort());
    expect(out.count).toBe(2);
    expect(out.stranded).toEqual([stopped.name]);
    expect(await networkExists(inUse.id)).toBe(true);
    expect(await networkExists(unrelated.id)).toBe(true);
    expect(await networkExists(home.id)).toBe(true);
  });

  it('reports nothing removed when nothing matches', async () => {
    const out = await callOk('docker_prune_networks', { filters: { label: [`${OURS}-nothing`] } });

    expect(out).toEqual({ removed: [], count: 0 });
  });
});
