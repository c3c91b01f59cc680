/**
 * The service policy judges what lands on the nodes, through the compiled binary on the test Swarm
 * (test/helpers/swarm-cluster.ts): a service's bind sources and bind-volume devices are on whichever
 * node runs its tasks, so they are judged as on an engine that does not share this filesystem
 * (allowlist only; the manager's own paths still refused), a service or stack may not join a macvlan
 * network (refused to containers), and changing a node's role is destructive: refused without
 * --allow-destructive, asked under --confirm, naming the node and what the change does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf, type RunningServer, startServer, structured } from '../helpers/client.ts';
import { askingClient } from '../helpers/elicit.ts';
import { TEST_IMAGE } from '../helpers/engine.ts';
import { withSwarm } from '../helpers/swarm.ts';

const swarm = withSwarm();
const TOKEN = `mcpt-swp-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), 'mcpt-swp-'));
const IDLE = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];
const ON_NODES = "a service's mounts are on the nodes that run its tasks";
const ALLOWLIST = 'SAFETY_VOLUME_MOUNT_ALLOWLIST (--mount-allowlist)';
const MACVLAN = `${TOKEN}-mv`;

type Obj = Record<string, unknown>;
interface Doc {
  ID: string;
  Spec: Obj & { Name: string; Labels?: Record<string, string>; Role?: string };
}

/** Which of these services (by suffix: `${TOKEN}-suffix`) exist now: a refused call makes none. */
const existing = async (...suffixes: string[]) => {
  const names = new Set((await swarm().raw<Doc[]>('manager', 'GET', '/services')).map((d) => d.Spec.Name));
  return suffixes.filter((x) => names.has(`${TOKEN}-${x}`));
};
const stack = (name: string, service: string, top = '') => ({
  project_name: `${TOKEN}-${name}`,
  content: `services:\n  a:\n    image: ${TEST_IMAGE}\n    deploy: { replicas: 0 }\n${service}${top}`,
});

let server: RunningServer;
let workerNode = '';
let managerNode = '';
beforeAll(async () => {
  const s = swarm();
  server = await startServer({ args: ['--toolsets', 'swarm'], env: { DOCKER_HOST: s.manager.host } });
  const nodes = await s.raw<(Doc & { Description: { Hostname: string } })[]>('manager', 'GET', '/nodes');
  workerNode = nodes.find((n) => n.Spec.Role === 'worker')?.ID ?? '';
  managerNode = nodes.find((n) => n.Spec.Role === 'manager')?.ID ?? '';
  // A swarm-scoped macvlan network made outside the server (the CLI's --config-from), on the manager's link.
  const link = `mcv${s.manager.netns.replace(/^mcpt-sw/, '')}`;
  await s.raw('manager', 'POST', '/networks/create', {
    Name: `${MACVLAN}-cfg`,
    ConfigOnly: true,
    Options: { parent: link },
    IPAM: { Config: [{ Subnet: '192.168.213.0/24' }] },
    Labels: s.labels,
  });
  await s.raw('manager', 'POST', '/networks/create', {
    Name: MACVLAN,
    Driver: 'macvlan',
    Scope: 'swarm',
    ConfigFrom: { Network: `${MACVLAN}-cfg` },
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  const s = swarm();
  for (const d of await s.raw<Doc[]>('manager', 'GET', '/services').catch(() => [] as Doc[]))
    if (d.Spec.Name.startsWith(TOKEN)) await s.raw('manager', 'DELETE', `/services/${d.ID}`).catch(() => {});
  // A build without the escalation promotes the worker: put it back.
  if (workerNode)
    await s.raw<Doc & { Version: { Index: number } }>('manager', 'GET', `/nodes/${workerNode}`).then(
      (n) =>
        n.Spec.Role === 'worker'
          ? undefined
          : s.raw('manager', 'POST', `/nodes/${workerNode}/update?version=${n.Version.Index}`, {
              ...n.Spec,
              Role: 'worker',
            }),
      () => undefined,
    );
  // The networks go once no task is on them (a stack's network a moment after its services).
  for (let i = 0; i < 20; i++) {
    const left = (await s.raw<{ Id: string; Name: string }[]>('manager', 'GET', '/networks')).filter((n) =>
      n.Name.startsWith(TOKEN),
    );
    if (left.length === 0) break;
    // The macvlan network before its config-only one, which it uses.
    for (const n of left.sort((a, b) => a.Name.length - b.Name.length))
      await s.raw('manager', 'DELETE', `/networks/${n.Id}`).catch(() => {});
    await Bun.sleep(500);
  }
  await s.reform();
  rmSync(work, { recursive: true, force: true });
}, 90_000);

describe("a service's host paths are judged as on the nodes that run its tasks", () => {
  it("refuses the worker engine's socket and data root for a service placed on the worker", async () => {
    const s = swarm();
    const socket = s.worker.host.replace(/^unix:\/\//, '');
    const root = (await s.raw<{ DockerRootDir: string }>('worker', 'GET', '/info')).DockerRootDir;
    for (const [suffix, source] of [
      ['wsock', socket],
      ['wroot', root],
    ] as const) {
      const r = await server.client.callTool('docker_service_create', {
        name: `${TOKEN}-${suffix}`,
        image: TEST_IMAGE,
        command: IDLE,
        mounts: [`${source}:/x`],
        constraints: ['node.role==worker'],
        labels: s.labels,
      });
      const e = errorOf(r);
      expect({ kind: e.kind, message: e.message }).toEqual({
        kind: 'policy_denied',
        message: expect.stringContaining(`mounts[0]: host path '${source}' is refused: ${ON_NODES}`),
      });
      expect(e.message).toContain(`only ${ALLOWLIST} entries are allowed`);
      expect(e.hint).toContain(
        `Add the directory, as it is on every node that may run the service's tasks, to ${ALLOWLIST}`,
      );
    }
    expect(await existing('wsock', 'wroot')).toEqual([]);
  });

  it('refuses a directory under the temp dir (a default root for containers) in create, update and stack deploy, until allowlisted', async () => {
    const s = swarm();
    const dir = mkdtempSync(join(work, 'data-'));
    const made = await server.client.callTool('docker_service_create', {
      name: `${TOKEN}-plain`,
      image: TEST_IMAGE,
      command: IDLE,
      replicas: 0,
      labels: s.labels,
    });
    expect(made.isError).toBeFalsy();
    const refusals = [
      await server.client.callTool('docker_service_create', {
        name: `${TOKEN}-tmp`,
        image: TEST_IMAGE,
        command: IDLE,
        mounts: [`${dir}:/d`],
        labels: s.labels,
      }),
      await server.client.callTool('docker_service_update', {
        service: `${TOKEN}-plain`,
        mounts: ['data:/data', `${dir}:/d`],
      }),
      await server.client.callTool('docker_stack_deploy', stack('tmp', `    volumes: ["${dir}:/d"]\n`), {
        timeout: 60_000,
      }),
    ];
    const said = refusals.map((r) => errorOf(r)).map((e) => ({ kind: e.kind, message: e.message }));
    expect(said).toEqual([
      {
        kind: 'policy_denied',
        message: expect.stringContaining(`mounts[0]: host path '${dir}' is refused: ${ON_NODES}`),
      },
      {
        kind: 'policy_denied',
        message: expect.stringContaining(`mounts[1]: host path '${dir}' is refused: ${ON_NODES}`),
      },
      {
        kind: 'policy_denied',
        message: expect.stringMatching(
          /^policy_denied: service "a" \(key volumes\): .*a service's mounts are on the nodes.*nothing was deployed/,
        ),
      },
    ]);
    expect(await existing('plain', 'tmp', 'tmp_a')).toEqual(['plain']);
    const spec = await s.raw<Doc>('manager', 'GET', `/services/${TOKEN}-plain`);
    expect((spec.Spec.TaskTemplate as { ContainerSpec: Obj }).ContainerSpec.Mounts).toBeUndefined();

    // Allowlisted, it is allowed; the manager engine's own socket stays refused under an entry.
    const socket = s.manager.host.replace(/^unix:\/\//, '');
    const allowed = await startServer({
      args: ['--toolsets', 'swarm', '--mount-allowlist', `${dir},/tmp`],
      env: { DOCKER_HOST: s.manager.host },
    });
    try {
      const ok = await allowed.client.callTool('docker_service_create', {
        name: `${TOKEN}-allowed`,
        image: TEST_IMAGE,
        command: IDLE,
        replicas: 0,
        mounts: [`${dir}:/d:ro`],
        labels: s.labels,
      });
      expect(structured<{ name: string }>(ok).name).toBe(`${TOKEN}-allowed`);
      const own = errorOf(
        await allowed.client.callTool('docker_service_create', {
          name: `${TOKEN}-msock`,
          image: TEST_IMAGE,
          command: IDLE,
          mounts: [`${socket}:/var/run/docker.sock`],
          labels: s.labels,
        }),
      );
      expect({ kind: own.kind, message: own.message }).toEqual({
        kind: 'policy_denied',
        message: expect.stringContaining(`mounts[0]: host path '${socket}' is refused: it exposes ${socket}`),
      });
    } finally {
      await allowed.close();
    }
    expect(await existing('allowed', 'msock')).toEqual(['allowed']);
  }, 90_000);
});

describe('a service or stack on a macvlan network is refused, as a container is', () => {
  it('refuses it by name and by ID in create, in update, and as a stack external network', async () => {
    const s = swarm();
    const { Id: id } = await s.raw<{ Id: string }>('manager', 'GET', `/networks/${MACVLAN}`);
    const base = { image: TEST_IMAGE, command: IDLE, replicas: 0, labels: s.labels };
    await server.client.callTool('docker_service_create', { name: `${TOKEN}-net`, ...base });
    const refusals = [
      await server.client.callTool('docker_service_create', {
        name: `${TOKEN}-mvname`,
        ...base,
        networks: [MACVLAN],
      }),
      await server.client.callTool('docker_service_create', {
        name: `${TOKEN}-mvid`,
        ...base,
        networks: [id],
      }),
      await server.client.callTool('docker_service_update', { service: `${TOKEN}-net`, networks: [MACVLAN] }),
      await server.client.callTool(
        'docker_stack_deploy',
        stack('mvs', '    networks: [m]\n', `networks:\n  m:\n    external: true\n    name: ${MACVLAN}\n`),
        { timeout: 60_000 },
      ),
    ];
    const said = refusals.map((r) => errorOf(r)).map((e) => ({ kind: e.kind, message: e.message }));
    const why = "(driver macvlan) is refused: it puts containers on a host interface's own network";
    expect(said).toEqual([
      { kind: 'policy_denied', message: expect.stringContaining(`networks[0]: network '${MACVLAN}' ${why}`) },
      { kind: 'policy_denied', message: expect.stringContaining(`networks[0]: network '${id}' ${why}`) },
      { kind: 'policy_denied', message: expect.stringContaining(`networks[0]: network '${MACVLAN}' ${why}`) },
      {
        kind: 'policy_denied',
        message: expect.stringMatching(
          /^policy_denied: service "a" \(key networks\): .*\(driver macvlan\) is refused.*nothing was deployed/,
        ),
      },
    ]);
    expect(await existing('net', 'mvname', 'mvid', 'mvs_a')).toEqual(['net']);
    const spec = await s.raw<Doc>('manager', 'GET', `/services/${TOKEN}-net`);
    expect((spec.Spec.TaskTemplate as Obj).Networks).toBeUndefined();
  }, 90_000);
});

describe("changing a node's role is destructive", () => {
  it('refuses a promotion without --allow-destructive, and the worker stays a worker', async () => {
    const e = errorOf(
      await server.client.callTool('docker_node_update', { node: workerNode, role: 'manager' }),
    );
    expect({ kind: e.kind, message: e.message }).toEqual({
      kind: 'policy_denied',
      message: expect.stringContaining("docker_node_update with 'role' is destructive"),
    });
    const n = await swarm().raw<Doc>('manager', 'GET', `/nodes/${workerNode}`);
    expect(n.Spec.Role).toBe('worker');
    // Labels and availability alone stay moderate.
    const labelled = await server.client.callTool('docker_node_update', {
      node: workerNode,
      labels: { [`${TOKEN}`]: 'x' },
    });
    expect(structured<{ role: string }>(labelled).role).toBe('worker');
    await server.client.callTool('docker_node_update', { node: workerNode, labels: { [`${TOKEN}`]: null } });
  });

  it('asks before a promotion or a demotion, naming the node and what changes; declined, nothing does', async () => {
    const s = swarm();
    const client = await askingClient({
      kind: 'v1',
      answer: () => 'decline',
      args: ['--toolsets', 'swarm', '--allow-destructive'],
      env: { DOCKER_HOST: s.manager.host },
    });
    try {
      const up = errorOf(await client.callTool('docker_node_update', { node: workerNode, role: 'manager' }));
      expect(up.message).toContain('the user declined');
      expect(client.asked[0]?.message).toContain(
        `promote node '${s.worker.hostname}' (${workerNode.slice(0, 12)}) to manager: it will control the whole swarm`,
      );
      const down = errorOf(
        await client.callTool('docker_node_update', { node: managerNode, role: 'worker' }),
      );
      expect(down.message).toContain('the user declined');
      expect(client.asked[1]?.message).toContain(
        `demote node '${s.manager.hostname}' (${managerNode.slice(0, 12)}), the swarm's only manager, to worker`,
      );
    } finally {
      await client.close();
    }
    const nodes = await s.raw<Doc[]>('manager', 'GET', '/nodes');
    expect(Object.fromEntries(nodes.map((n) => [n.ID, n.Spec.Role]))).toEqual({
      [workerNode]: 'worker',
      [managerNode]: 'manager',
    });
  });
});
