import { describe, expect, it } from 'bun:test';
import { ToolError } from '../../src/core/errors.ts';
import { swarmError } from '../../src/docker/swarm/api.ts';
import { withPort } from '../../src/docker/swarm/cluster.ts';
import { specKey } from '../../src/docker/swarm/convergence.ts';
import { taskLine } from '../../src/docker/swarm/service-logs.ts';
import { parseMount, parsePort, serviceRow, serviceSpec } from '../../src/docker/swarm/service-spec.ts';
import { capabilitiesSupported } from '../../src/tools/swarm/service-args.ts';

describe('serviceSpec', () => {
  it('builds a create spec from the arguments, durations in nanoseconds', () => {
    const spec = serviceSpec({
      name: 'web',
      image: 'busybox',
      command: ['sleep', '60'],
      env: { A: '1' },
      replicas: 3,
      mounts: ['data:/d', '/srv:/s:ro', 'tmpfs:/t'],
      ports: [{ target: 80, published: 8080 }],
      networks: ['front'],
      constraints: ['node.role==worker'],
      limit_cpus: 0.5,
      limit_memory: 64 << 20,
      update_config: { parallelism: 1, delay: 2, failure_action: 'rollback', monitor: 1.5 },
    });
    expect(spec.Name).toBe('web');
    expect(spec.Mode).toEqual({ Replicated: { Replicas: 3 } });
    expect(spec.TaskTemplate?.ContainerSpec).toMatchObject({
      Image: 'busybox',
      Env: ['A=1'],
      Args: ['sleep', '60'],
    });
    expect(spec.TaskTemplate?.ContainerSpec?.Mounts).toEqual([
      { Type: 'volume', Source: 'data', Target: '/d', ReadOnly: false },
      { Type: 'bind', Source: '/srv', Target: '/s', ReadOnly: true },
      { Type: 'tmpfs', Target: '/t', ReadOnly: false },
    ]);
    expect(spec.TaskTemplate?.Resources).toEqual({
      Limits: { NanoCPUs: 500_000_000, MemoryBytes: 64 << 20 },
    });
    expect(spec.TaskTemplate?.Placement).toEqual({ Constraints: ['node.role==worker'] });
    expect(spec.UpdateConfig).toEqual({
      Parallelism: 1,
      Delay: 2e9,
      FailureAction: 'rollback',
      Monitor: 1.5e9,
    });
    expect(spec.EndpointSpec?.Ports).toEqual([
      { TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp', PublishMode: 'ingress' },
    ]);
  });

  it('updates in place: what is given replaces its part, everything else is kept', () => {
    const base = serviceSpec({
      name: 'web',
      image: 'a',
      env: { A: '1' },
      replicas: 2,
      update_config: { parallelism: 2 },
    });
    (base.TaskTemplate as Record<string, unknown>).LogDriver = { Name: 'json-file' };
    const next = serviceSpec({ image: 'b', update_config: { delay: 1 } }, base);
    expect(next.TaskTemplate?.ContainerSpec).toMatchObject({ Image: 'b', Env: ['A=1'] });
    expect(next.Mode).toEqual({ Replicated: { Replicas: 2 } });
    expect(next.UpdateConfig).toEqual({ Parallelism: 2, Delay: 1e9 });
    expect((next.TaskTemplate as Record<string, unknown>).LogDriver).toEqual({ Name: 'json-file' });
    expect(base.TaskTemplate?.ContainerSpec?.Image).toBe('a'); // the base is not changed
  });

  it('reads ports in the short and the long form', () => {
    expect(parsePort('8080:80', 'p')).toEqual({ target: 80, published: 8080 });
    expect(parsePort('53/udp', 'p')).toEqual({ target: 53, protocol: 'udp' });
    expect(parsePort('mode=host,published=80,target=8080', 'p')).toEqual({
      target: 8080,
      published: 80,
      mode: 'host',
    });
    expect(() => parsePort('80:http', 'ports[0]')).toThrow(/ports\[0\]/);
    expect(() => parsePort('mode=host,target=80,ip=0.0.0.0', 'p')).toThrow(ToolError);
    const spec = serviceSpec({ name: 'a', image: 'b', ports: ['mode=host,published=80,target=8080'] });
    expect(spec.EndpointSpec?.Ports).toEqual([
      { TargetPort: 8080, PublishedPort: 80, Protocol: 'tcp', PublishMode: 'host' },
    ]);
  });

  it('refuses what cannot be a service', () => {
    expect(() => serviceSpec({ image: 'x' })).toThrow(ToolError);
    expect(() => serviceSpec({ name: 'x' })).toThrow(ToolError);
    expect(() => serviceSpec({ name: 'x', image: 'x', mode: 'global', replicas: 2 })).toThrow(/global/);
    expect(() => parseMount('/only', 'mounts[0]')).toThrow(/source:target/);
    expect(() => parseMount('a:b:rx', 'mounts[0]')).toThrow(/source:target/);
  });

  it('shows a service as a compact row', () => {
    const spec = serviceSpec({ name: 'web', image: 'busybox@sha256:abc123', replicas: 3 });
    const row = serviceRow({
      ID: '0123456789abcdef',
      Spec: spec,
      Endpoint: { Ports: [{ TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp', PublishMode: 'ingress' }] },
      ServiceStatus: { RunningTasks: 2, DesiredTasks: 3 },
      UpdateStatus: { State: 'updating' },
    });
    expect(row).toEqual({
      id: '0123456789ab',
      name: 'web',
      image: 'busybox',
      mode: 'replicated',
      replicas: '2/3',
      ports: ['*:8080->80/tcp'],
      update: 'updating',
    });
  });
});

describe('taskLine', () => {
  const names = { tasks: new Map([['t1', 'web.1']]), nodes: new Map([['n1', 'node-a']]) };
  const details = 'com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1';

  it('leads a line with task@node in place of the engine details, a timestamp staying first', () => {
    expect(taskLine(`${details} hello world`, names)).toBe('web.1@node-a hello world');
    expect(taskLine(`2026-12-06T02:00:00.000000001Z ${details} hi`, names)).toBe(
      '2026-12-06T02:00:00.000000001Z web.1@node-a hi',
    );
    expect(taskLine('no details here', names)).toBe('no details here');
  });
});

describe('Swarm engine answers and comparisons', () => {
  const refusal = (message: string, statusCode = 503) => ({ statusCode, json: { message } });

  it('turns "not in a swarm", "a worker" and "already in a swarm" into conflicts with a next step', () => {
    const notIn = swarmError(
      refusal(
        'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.',
      ),
    ) as ToolError;
    expect(notIn.kind).toBe('conflict');
    expect(notIn.message).toBe('this engine is not in a swarm');
    expect(notIn.hint).toContain('docker_swarm_init');
    const worker = swarmError(
      refusal(
        "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state.",
      ),
    ) as ToolError;
    expect(worker.message).toContain('worker, not a manager');
    const already = swarmError(refusal('This node is already part of a swarm.')) as ToolError;
    expect(already.hint).toContain('docker_swarm_leave');
    const other = refusal('something else', 500);
    expect(swarmError(other)).toBe(other);
  });

  it('compares a task spec with its service spec without Runtime and empty parts', () => {
    const service = {
      ContainerSpec: { Image: 'a', Mounts: [] },
      Resources: {},
      ForceUpdate: 0,
      Runtime: 'container',
    };
    const task = { ForceUpdate: 0, ContainerSpec: { Image: 'a' } };
    expect(specKey(service)).toBe(specKey(task));
    expect(specKey({ ...task, ForceUpdate: 1 })).not.toBe(specKey(service));
  });

  it('adds the Swarm port to an address that has none', () => {
    expect(withPort('10.0.0.1', 2377)).toBe('10.0.0.1:2377');
    expect(withPort('10.0.0.1:4000', 2377)).toBe('10.0.0.1:4000');
    expect(withPort('fd00::1', 2377)).toBe('[fd00::1]:2377');
    expect(withPort('[fd00::1]:4000', 2377)).toBe('[fd00::1]:4000');
    expect(withPort('eth0', 2377)).toBe('eth0:2377');
  });
});

describe('service capabilities and the engine API', () => {
  it('takes cap_add and cap_drop from Engine API 1.41, and names the argument and the fix before that', () => {
    expect(() => capabilitiesSupported({ cap_drop: ['ALL'] }, '1.41')).not.toThrow();
    expect(() => capabilitiesSupported({}, '1.40')).not.toThrow();
    expect(() => capabilitiesSupported({ cap_drop: ['ALL'] }, '1.40')).toThrow(
      'cap_drop needs Engine API 1.41 (Docker 20.10) or newer; this engine speaks 1.40',
    );
    expect(() => capabilitiesSupported({ cap_add: ['CHOWN'] }, '')).toThrow(/^cap_add needs/);
  });
});
