/**
 * The swarm toolset on a real two-node cluster (test/helpers/swarm-cluster.ts): a manager and a worker,
 * each a private dockerd in a network namespace of its own. One cluster serves every scenario; the
 * scenarios that take a node out put it back. No service publishes a port.
 */
import { describe, expect, it } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { withSwarm } from '../helpers/swarm.ts';

const swarm = withSwarm();
const IMAGE = process.env.MCP_DOCKER_TEST_IMAGE ?? 'mcp-test/busybox:latest';
/** An image no node has and no registry serves (nothing listens on that loopback port in the namespaces). */
const MISSING_IMAGE = '127.0.0.1:5999/mcpt-missing:1';
/** Sleeps, and exits at once on SIGTERM (a plain sleep as PID 1 ignores it: every stop would wait 10 s). */
const sleepCmd = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];

type Row = Record<string, string>;
const tasksOf = async (service: string) =>
  (
    await swarm().ok<{ tasks: Row[] }>('docker_task_list', {
      service,
      desired_state: 'running',
    })
  ).tasks;

const waitMet = async (service: string, timeout = 60) => {
  const r = await swarm().ok<{ met: boolean; running: number; desired: number; update?: string }>(
    'docker_service_wait',
    { service, timeout },
  );
  return r;
};

describe('docker_swarm_* on a two-node cluster', () => {
  it('reports the manager and worker roles, never a join token', async () => {
    const m = await swarm().ok<Row & { nodes: number; managers: number }>('docker_swarm_info');
    expect(m).toMatchObject({ state: 'active', role: 'manager', nodes: 2, managers: 1 });
    expect(m.node_addr).toBe(swarm().manager.addr);
    const w = await swarm().ok<Row>('docker_swarm_info', { engine: 'worker' });
    expect(w).toMatchObject({ state: 'active', role: 'worker' });
    expect(w.nodes).toBeUndefined();
    expect(JSON.stringify([m, w])).not.toContain('SWMTKN');
  });

  it('says a worker is not a manager and what to do', async () => {
    const out = await swarm().call('docker_service_list', { engine: 'worker' });
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.error.kind).toBe('conflict');
    expect(out.error.message).toContain('worker, not a manager');
    expect(out.error.hint).toContain('manager engine');
  });

  it('gives a worker join token as a moderate call, a manager token only at the destructive tier', async () => {
    const t = await swarm().ok<{ token: string; managers: string[] }>('docker_swarm_join_token');
    expect(t.token).toStartWith('SWMTKN-');
    expect(t.managers).toEqual([`${swarm().manager.addr}:2377`]);
    const refused = await swarm().call(
      'docker_swarm_join_token',
      { role: 'manager' },
      { profile: { allowDestructive: false } },
    );
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.kind).toBe('policy_denied');
    const allowed = await swarm().ok<{ token: string }>('docker_swarm_join_token', { role: 'manager' });
    expect(allowed.token).not.toBe(t.token);
  });

  it('leaves, inits a swarm listening on the advertise address only, and joins back through manager_engine', async () => {
    const s = swarm();
    const before = await s.ok<Row>('docker_swarm_info', { engine: 'worker' });
    try {
      const left = await s.ok<Row>('docker_swarm_leave', { engine: 'worker' });
      expect(left.state).toBe('inactive');
      const outside = await s.call('docker_node_list', { engine: 'worker' });
      expect(!outside.ok && outside.error.message).toContain('not in a swarm');

      const own = await s.ok<Row>('docker_swarm_init', { engine: 'worker', advertise_addr: s.worker.addr });
      expect(own).toMatchObject({ role: 'manager', node_addr: s.worker.addr });
      const listening = spawnSync('nsenter', [`--net=/var/run/netns/${s.worker.netns}`, 'ss', '-ltnH'], {
        encoding: 'utf8',
      }).stdout;
      const swarmPort = listening.split('\n').filter((l) => l.includes(':2377'));
      expect(swarmPort.length).toBeGreaterThan(0);
      for (const l of swarmPort) expect(l).toContain(`${s.worker.addr}:2377`);
      const stillManager = await s.call('docker_swarm_leave', { engine: 'worker' });
      expect(stillManager.ok).toBe(false);
      await s.ok('docker_swarm_leave', { engine: 'worker', force: true });

      // The manager still lists the worker that left (until its heartbeat lapses): remove that entry.
      const removed = await s.ok<Row>('docker_node_remove', { node: before.node_id, force: true });
      expect(removed.hostname).toBe('mcpt-worker');

      const joined = await s.ok<Row>('docker_swarm_join', {
        engine: 'worker',
        manager_engine: 'manager',
        advertise_addr: s.worker.addr,
      });
      expect(joined).toMatchObject({ state: 'active', role: 'worker', node_addr: s.worker.addr });
      const nodes = (await s.ok<{ nodes: Row[] }>('docker_node_list')).nodes;
      expect(nodes.map((n) => n.hostname).sort()).toEqual(['mcpt-manager', 'mcpt-worker']);
    } finally {
      await s.reform();
    }
  }, 120_000);

  it('inspects a node by hostname: role, state, resources and platform; full gives the engine document', async () => {
    const w = await swarm().ok<Row & { cpus: number; memory_bytes: number }>('docker_node_inspect', {
      node: 'mcpt-worker',
    });
    expect(w).toMatchObject({
      hostname: 'mcpt-worker',
      role: 'worker',
      availability: 'active',
      state: 'ready',
    });
    expect(w.id).toMatch(/^[0-9a-z]{12}$/);
    expect(w.cpus).toBeGreaterThan(0);
    expect(w.memory_bytes).toBeGreaterThan(0);
    expect(w.platform).toMatch(/^linux\//);
    const m = await swarm().ok<Row>('docker_node_inspect', { node: 'mcpt-manager' });
    expect(m).toMatchObject({ role: 'manager', manager: 'leader' });
    const id = w.id ?? '';
    const full = await swarm().ok<{ ID: string; Spec: Row }>('docker_node_inspect', { node: id, full: true });
    expect(full.ID).toStartWith(id);
    expect(full.Spec.Role).toBe('worker');
  });

  it('answers an unknown node with not_found, naming the close hostnames', async () => {
    const out = await swarm().call('docker_node_inspect', { node: 'mcpt-workr' });
    expect(!out.ok && out.error.kind).toBe('not_found');
    if (out.ok) return;
    expect(out.error.message).toEndWith("node 'mcpt-workr' not found");
    expect(out.error.hint).toContain("'mcpt-worker'");
  });

  it('refuses to join through an engine the caller cannot name, or the joining engine itself', async () => {
    const nope = await swarm().call('docker_swarm_join', { engine: 'worker', manager_engine: 'elsewhere' });
    expect(!nope.ok && nope.error).toMatchObject({
      kind: 'invalid_argument',
      message: "engine 'worker': invalid argument 'manager_engine': no engine named 'elsewhere'",
    });
    const self = await swarm().call('docker_swarm_join', { engine: 'worker', manager_engine: 'worker' });
    expect(!self.ok && self.error.kind).toBe('invalid_argument');
  });
});

describe('docker_service_* and docker_node_update on a two-node cluster', () => {
  const name = `mcpt-spread-${process.pid}`;

  it('creates a replicated service that spreads over both nodes, and waits for it to converge', async () => {
    const s = swarm();
    const made = await s.ok<Row>('docker_service_create', {
      name,
      image: IMAGE,
      command: sleepCmd,
      replicas: 4,
      labels: s.labels,
      update_config: { parallelism: 2, delay: 0, monitor: 1, failure_action: 'rollback' },
      rollback_config: { parallelism: 0, delay: 0, monitor: 1 },
    });
    expect(made.name).toBe(name);
    expect(made.note).toBeUndefined(); // no ports, no note
    const met = await waitMet(name);
    expect(met).toMatchObject({ met: true, running: 4, desired: 4 });
    const nodes = (await tasksOf(name)).map((t) => t.node ?? '');
    expect(new Set(nodes)).toEqual(new Set(['mcpt-manager', 'mcpt-worker']));
    const row = (await s.ok<{ services: Row[] }>('docker_service_list', { filters: { name: [name] } }))
      .services[0];
    expect(row).toMatchObject({ name, image: IMAGE, mode: 'replicated', replicas: '4/4' });
  }, 90_000);

  it('moves the tasks off a drained worker, and back to work when it is active again', async () => {
    const s = swarm();
    try {
      const drained = await s.ok<Row>('docker_node_update', { node: 'mcpt-worker', availability: 'drain' });
      expect(drained.availability).toBe('drain');
      let nodes: string[] = [];
      for (let i = 0; i < 150; i++) {
        nodes = (await tasksOf(name)).filter((t) => t.state === 'running').map((t) => t.node ?? '');
        if (nodes.length === 4 && nodes.every((n) => n === 'mcpt-manager')) break;
        await Bun.sleep(200);
      }
      expect(nodes).toEqual(['mcpt-manager', 'mcpt-manager', 'mcpt-manager', 'mcpt-manager']);
      expect(await waitMet(name)).toMatchObject({ met: true, running: 4 });
    } finally {
      const back = await s.ok<Row>('docker_node_update', { node: 'mcpt-worker', availability: 'active' });
      expect(back.availability).toBe('active');
    }
  }, 90_000);

  it('rolls a failing update back by its policy, and wait reports the rollback', async () => {
    const s = swarm();
    await s.ok('docker_service_update', { service: name, image: MISSING_IMAGE });
    let r = await waitMet(name, 90);
    // The wait may return while the rollback is still starting; the rolled-back spec then converges.
    if (r.update !== 'rollback_completed') r = await waitMet(name, 60);
    expect(r).toMatchObject({ met: true, update: 'rollback_completed', running: 4, desired: 4 });
    const inspected = await s.ok<Row>('docker_service_inspect', { service: name });
    expect(inspected.image).toBe(IMAGE);
    for (const t of await tasksOf(name)) expect(t.image).toBe(IMAGE);
  }, 180_000);

  it('scales, updates in place, and rolls back to the previous spec on request', async () => {
    const s = swarm();
    await s.ok('docker_service_scale', { service: name, replicas: 2 });
    expect(await waitMet(name)).toMatchObject({ met: true, running: 2, desired: 2 });
    const before = await s.raw<{ ID: string; Version: { Index: number } }>(
      'manager',
      'GET',
      `/services/${name}`,
    );
    await s.ok('docker_service_update', { service: name, env: { MODE: 'b' } });
    const after = await s.raw<{ ID: string; Spec: { TaskTemplate: { ContainerSpec: { Env: string[] } } } }>(
      'manager',
      'GET',
      `/services/${name}`,
    );
    expect(after.ID).toBe(before.ID); // in place, not recreated
    expect(after.Spec.TaskTemplate.ContainerSpec.Env).toEqual(['MODE=b']);
    expect(await waitMet(name)).toMatchObject({ met: true, running: 2 });
    await s.ok('docker_service_rollback', { service: name });
    const back = await s.raw<{ Spec: { TaskTemplate: { ContainerSpec: { Env?: string[] } } } }>(
      'manager',
      'GET',
      `/services/${name}`,
    );
    expect(back.Spec.TaskTemplate.ContainerSpec.Env).toBeUndefined();
    expect(await waitMet(name)).toMatchObject({ met: true, running: 2 });
  }, 120_000);

  it('reads the logs of every task, each line led by task@node', async () => {
    const s = swarm();
    const logs = `mcpt-logs-${process.pid}`;
    await s.ok('docker_service_create', {
      name: logs,
      image: IMAGE,
      command: ['sh', '-c', 'echo hello from $(hostname); trap "exit 0" TERM; sleep 3600 & wait'],
      replicas: 2,
      constraints: [],
      labels: s.labels,
    });
    expect(await waitMet(logs)).toMatchObject({ met: true });
    let lines: string[] = [];
    for (let i = 0; i < 50 && lines.length < 2; i++) {
      lines = (await s.ok<{ lines: string[] }>('docker_service_logs', { service: logs })).lines;
      if (lines.length < 2) await Bun.sleep(200);
    }
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(new RegExp(`^${logs}\\.[12]@mcpt-(manager|worker) hello from `));
    const one = await s.ok<{ lines: string[] }>('docker_service_logs', { service: logs, grep: '.1@' });
    expect(one.lines).toHaveLength(1);
    const stamped = await s.ok<{ lines: string[] }>('docker_service_logs', {
      service: logs,
      timestamps: true,
    });
    for (const l of stamped.lines) expect(l).toMatch(new RegExp(`^\\d{4}-\\S+ ${logs}\\.[12]@mcpt-`));
    await s.ok('docker_service_remove', { service: logs });
  }, 90_000);

  it('refuses a service spec the container policy refuses, and changes nothing', async () => {
    const s = swarm();
    const bad = `mcpt-bad-${process.pid}`;
    const out = await s.call('docker_service_create', {
      name: bad,
      image: IMAGE,
      command: sleepCmd,
      mounts: ['/etc:/host-etc'],
      labels: s.labels,
    });
    expect(!out.ok && out.error.kind).toBe('policy_denied');
    // Named as the caller wrote it, with the setting that would allow it.
    expect(!out.ok && out.error.message).toContain("mounts[0]: host path '/etc'");
    expect(!out.ok && out.error.hint).toContain('SAFETY_VOLUME_MOUNT_ALLOWLIST');
    const found = await s.raw<unknown[]>(
      'manager',
      'GET',
      `/services?filters=${encodeURIComponent(JSON.stringify({ name: [bad] }))}`,
    );
    expect(found).toEqual([]);
    const before = await s.raw<{ Version: { Index: number } }>('manager', 'GET', `/services/${name}`);
    const upd = await s.call('docker_service_update', { service: name, mounts: ['/:/host'] });
    expect(!upd.ok && upd.error.kind).toBe('policy_denied');
    expect(!upd.ok && upd.error.message).toContain("mounts[0]: host path '/'");
    const now = await s.raw<{ Version: { Index: number } }>('manager', 'GET', `/services/${name}`);
    expect(now.Version.Index).toBe(before.Version.Index);
  });

  it('checks the spec that will run: scaling a hostile service made elsewhere, rolling back to a hostile spec', async () => {
    const s = swarm();
    const spec = (name: string, extra: Record<string, unknown> = {}) => ({
      Name: name,
      Labels: s.labels,
      TaskTemplate: { ContainerSpec: { Image: IMAGE, Args: sleepCmd, ...extra } },
      Mode: { Replicated: { Replicas: 0 } },
    });
    const version = async (name: string) =>
      (await s.raw<{ Version: { Index: number } }>('manager', 'GET', `/services/${name}`)).Version.Index;
    // Made through the raw API, as another client could.
    const hostile = `mcpt-hostile-${process.pid}`;
    await s.raw('manager', 'POST', '/services/create', spec(hostile, { CapabilityAdd: ['CAP_SYS_ADMIN'] }));
    const v0 = await version(hostile);
    const scaled = await s.call('docker_service_scale', { service: hostile, replicas: 1 });
    expect(!scaled.ok && scaled.error.kind).toBe('policy_denied');
    expect(!scaled.ok && scaled.error.message).toContain(
      `service '${hostile}' as it is now: TaskTemplate.ContainerSpec.CapabilityAdd[0]: capability 'SYS_ADMIN'`,
    );
    expect(!scaled.ok && scaled.error.hint).toContain('SAFETY_ALLOW_PRIVILEGED_CONTAINERS');
    expect(await version(hostile)).toBe(v0);

    const turned = `mcpt-turned-${process.pid}`;
    await s.raw('manager', 'POST', '/services/create', spec(turned));
    const update = async (extra: Record<string, unknown>) =>
      s.raw(
        'manager',
        'POST',
        `/services/${turned}/update?version=${await version(turned)}`,
        spec(turned, extra),
      );
    await update({ CapabilityAdd: ['CAP_SYS_ADMIN'] });
    await update({});
    const v1 = await version(turned);
    const back = await s.call('docker_service_rollback', { service: turned });
    expect(!back.ok && back.error.kind).toBe('policy_denied');
    expect(await version(turned)).toBe(v1);
    const now = await s.raw<{ Spec: { TaskTemplate: { ContainerSpec: Record<string, unknown> } } }>(
      'manager',
      'GET',
      `/services/${turned}`,
    );
    expect(now.Spec.TaskTemplate.ContainerSpec.CapabilityAdd).toBeUndefined();
  });

  it('names close services when a reference finds none, and removes a service', async () => {
    const s = swarm();
    const miss = await s.call('docker_service_inspect', { service: `${name}x` });
    expect(!miss.ok && miss.error.kind).toBe('not_found');
    expect(!miss.ok && miss.error.hint).toContain(name);
    const full = await s.ok<{ services: Record<string, unknown>[] }>('docker_service_list', {
      filters: { name: [name] },
      full: true,
    });
    expect(full.services[0]?.Spec).toBeDefined();
    const gone = await s.ok<Row>('docker_service_remove', { service: name });
    expect(gone.name).toBe(name);
    const after = await s.call('docker_service_inspect', { service: name });
    expect(!after.ok && after.error.kind).toBe('not_found');
  });
});
