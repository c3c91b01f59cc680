import { afterAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine, MAX_API_VERSION, negotiate } from '../../src/docker/engine.ts';
import { VERSION } from '../../src/version.ts';
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
import { podmanDiffers, reportedImage } from '../helpers/podman.ts';
import { socketProxy } from '../helpers/socket-proxy.ts';

/** Networks, volumes and images this file made, removed afterwards if a test left them. */
const made = { networks: [] as string[], volumes: [] as string[], images: [] as string[] };
afterAll(async () => {
  await cleanupContainers();
  const gone = (e: { statusCode?: number }) => {
    if (e.statusCode !== 404) throw e;
  };
  const docker = testDocker();
  for (const n of made.networks) await docker.getNetwork(n).remove().catch(gone);
  for (const v of made.volumes) await docker.getVolume(v).remove().catch(gone);
  for (const i of made.images) await docker.getImage(i).remove({ force: true }).catch(gone);
});

const engineAt = (dockerHost: string) =>
  new Engine({
    dockerHost,
    dockerConfigDir: '/nonexistent',
    tlsVerify: false,
    home: '/nonexistent',
    platform: 'linux',
  });

const nowSeconds = () => Date.now() / 1000;

describe('docker_system_info', () => {
  it('summarises the engine: version, host, resources, counts and drivers, in under 2 KB', async () => {
    await makeContainer();
    const engine = await testDocker().info();

    const out = await callOk<Record<string, unknown>>('docker_system_info');

    expect(out).toMatchObject({
      server_version: engine.ServerVersion,
      kernel: engine.KernelVersion,
      arch: engine.Architecture,
      cpus: engine.NCPU,
      memory: engine.MemTotal,
      storage_driver: engine.Driver,
      cgroup_driver: engine.CgroupDriver,
      logging_driver: engine.LoggingDriver,
      swarm: 'inactive',
    });
    const containers = out.containers as Record<string, number>;
    expect(containers.running).toBeGreaterThanOrEqual(1);
    expect(containers.total).toBe(
      (containers.running ?? 0) + (containers.paused ?? 0) + (containers.stopped ?? 0),
    );
    for (const o of out.security_options as string[]) expect(o.startsWith('name=')).toBe(false);
    expect(out.Plugins).toBeUndefined();
    expect(JSON.stringify(out).length).toBeLessThan(2048);
  });

  it('returns the engine document with full: true', async () => {
    const out = await callOk<Record<string, unknown>>('docker_system_info', { full: true });

    expect(out.ServerVersion).toBe((await testDocker().info()).ServerVersion);
    expect(out.Plugins).toBeDefined();
  });
});

describe('docker_version', () => {
  it("reports this server's version and the engine's, with the API version in use", async () => {
    const engine = await testDocker().version();

    const out = await callOk<{ client: Record<string, string>; server: Record<string, unknown> }>(
      'docker_version',
    );

    expect(out.client).toEqual({ name: 'mcp-docker', version: VERSION, max_api_version: MAX_API_VERSION });
    expect(out.server).toMatchObject({
      version: engine.Version,
      api_version: engine.ApiVersion,
      negotiated_api_version: negotiate(engine.ApiVersion),
      min_api_version: engine.MinAPIVersion,
      go_version: engine.GoVersion,
      os: engine.Os,
      arch: engine.Arch,
      git_commit: engine.GitCommit,
    });
    const component = podmanDiffers('podman-components') ? 'Podman Engine' : 'Engine';
    expect(out.server.components).toContainEqual({ name: component, version: engine.Version });
  });
});

type Totals = { count: number; active: number; size: number; reclaimable: number };
type Df = Record<'images' | 'containers' | 'volumes' | 'build_cache', Totals> & {
  size: number;
  reclaimable: number;
  items?: Record<string, Record<string, unknown>[]>;
};

describe('docker_system_df', () => {
  it('totals each type: count, active, size and reclaimable, with no rows unless asked', async () => {
    await makeContainer(); // a running container: at least one active container and image

    const out = await callOk<Df>('docker_system_df');

    const types = [out.images, out.containers, out.volumes, out.build_cache];
    for (const t of types) {
      expect(t.active).toBeLessThanOrEqual(t.count);
      expect(t.reclaimable).toBeGreaterThanOrEqual(0);
      expect(t.reclaimable).toBeLessThanOrEqual(t.size);
    }
    expect(out.images.count).toBeGreaterThanOrEqual(1);
    expect(out.images.active).toBeGreaterThanOrEqual(1);
    expect(out.containers.active).toBeGreaterThanOrEqual(1);
    expect(out.size).toBe(types.reduce((n, t) => n + t.size, 0));
    expect(out.reclaimable).toBe(types.reduce((n, t) => n + t.reclaimable, 0));
    expect(out.items).toBeUndefined();
  });

  it('lists one compact row per item with verbose, capped by the list limit', async () => {
    const { id, name } = await makeContainer({ cmd: ['sh', '-c', 'echo data > /file; sleep 3600'] });

    const out = await callOk<Df>('docker_system_df', { verbose: true });
    const capped = await callOk<Df>('docker_system_df', { verbose: true }, { limits: { maxListResults: 1 } });

    const row = out.items?.containers?.find((c) => c.name === name);
    const image = podmanDiffers('df-image-names')
      ? (await testDocker().getImage(TEST_IMAGE).inspect()).Id.replace('sha256:', '')
      : TEST_IMAGE;
    expect(row).toMatchObject({ id: id.slice(0, 12), image, state: 'running' });
    expect(Number.isInteger(row?.size)).toBe(true);
    const tag = podmanDiffers('df-image-names') ? 'latest' : TEST_IMAGE;
    expect(out.items?.images?.find((i) => (i.tags as string[]).includes(tag))).toBeDefined();
    expect(capped.items?.containers).toHaveLength(1);
    expect(capped.containers.count).toBeGreaterThan(1); // totals still count everything
  });

  it("returns the engine's own item documents with full: true", async () => {
    const { id } = await makeContainer();

    const out = await callOk<Df>('docker_system_df', { full: true });

    expect(out.items?.containers?.find((c) => c.Id === id)).toMatchObject({ Id: id, State: 'running' });
    expect(out.containers.count).toBeGreaterThanOrEqual(1);
  });
});

describe('docker_system_prune', () => {
  /** A label only this test's objects carry, so the prune touches nothing of anyone else's. */
  const scope = () => {
    const mark = uniqueName('mcpt-prune');
    const labels = { ...testLabels(), 'mcpt-prune': mark };
    return { labels, filters: { label: [`${TEST_LABEL}=${RUN_ID}`, `mcpt-prune=${mark}`] } };
  };
  const exists = found;

  it('removes only matching stopped containers, unused networks, volumes and dangling images, and reports each', async () => {
    const { labels, filters } = scope();
    const docker = testDocker();
    const stopped = await makeContainer({ start: false, labels });
    const running = await makeContainer({ labels });
    const otherStopped = await makeContainer({ start: false });
    const net = uniqueName('mcpt-net');
    await docker.createNetwork({ Name: net, Labels: labels });
    made.networks.push(net);
    const vol = uniqueName('mcpt-vol');
    await docker.createVolume({ Name: vol, Labels: labels });
    made.volumes.push(vol);
    if (podmanDiffers('volume-filters-any')) {
      // Two label conditions: Podman would prune volumes matching either. Refused before anything goes.
      const err = await callErr('docker_system_prune', { volumes: true, filters });
      expect(err.kind).toBe('invalid_argument');
      expect(err.message).toContain('is Podman, whose volume filters match any');
      for (const c of [stopped, running, otherStopped])
        expect(await exists(docker.getContainer(c.id).inspect())).toBe(true);
      expect(await exists(docker.getNetwork(net).inspect())).toBe(true);
      expect(await exists(docker.getVolume(vol).inspect())).toBe(true);
      return;
    }
    // An untagged image carrying the labels: committed from the container that is pruned first.
    const { Id: image } = (await docker.getContainer(stopped.id).commit({})) as { Id: string };
    made.images.push(image);
    const progress: { progress: number; total?: number; message?: string }[] = [];

    const out = await callOk<Record<string, Record<string, unknown>>>(
      'docker_system_prune',
      { volumes: true, filters },
      { onProgress: (p) => progress.push(p) },
    );

    expect(out.containers?.items).toEqual([stopped.id.slice(0, 12)]);
    expect(out.networks?.items).toEqual([net]);
    expect(out.volumes?.items).toEqual([vol]);
    expect(out.images?.items).toContain(image.replace('sha256:', '').slice(0, 12));
    expect(out.build_cache?.skipped).toContain('label');
    expect(out.space_reclaimed).toBeGreaterThanOrEqual(0);
    expect(await exists(docker.getContainer(stopped.id).inspect())).toBe(false);
    expect(await exists(docker.getContainer(running.id).inspect())).toBe(true);
    expect(await exists(docker.getContainer(otherStopped.id).inspect())).toBe(true);
    expect(await exists(docker.getNetwork(net).inspect())).toBe(false);
    expect(await exists(docker.getVolume(vol).inspect())).toBe(false);
    expect(await exists(docker.getImage(image).inspect())).toBe(false);
    expect(progress[0]?.message).toBe('pruning containers');
    expect(progress.at(-1)).toEqual({ progress: 5, total: 5, message: 'done' });
  });

  it('leaves volumes alone unless volumes is true', async () => {
    const { labels, filters } = scope();
    const vol = uniqueName('mcpt-vol');
    await testDocker().createVolume({ Name: vol, Labels: labels });
    made.volumes.push(vol);

    const out = await callOk<Record<string, Record<string, unknown>>>('docker_system_prune', { filters });

    expect(out.volumes).toEqual({ removed: 0, skipped: 'pass volumes: true to prune unused volumes' });
    expect(await exists(testDocker().getVolume(vol).inspect())).toBe(true);
  });

  it('refuses volumes with an until filter before removing anything', async () => {
    const { labels, filters } = scope();
    const stopped = await makeContainer({ start: false, labels });

    const err = await callErr('docker_system_prune', {
      volumes: true,
      filters: { ...filters, until: ['1s'] },
    });

    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain('filters.until');
    expect(await exists(testDocker().getContainer(stopped.id).inspect())).toBe(true);
  });

  it('refuses a filter the prune endpoints do not share, naming it', async () => {
    const err = await callErr('docker_system_prune', { filters: { dangling: ['true'] } });

    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toContain('dangling');
  });

  it('removes nothing once cancelled', async () => {
    const { labels, filters } = scope();
    const stopped = await makeContainer({ start: false, labels });
    const cancel = new AbortController();

    const err = await callErr(
      'docker_system_prune',
      { filters },
      { signal: cancel.signal, onProgress: () => cancel.abort() },
    );

    expect(err.kind).toBe('cancelled');
    expect(await exists(testDocker().getContainer(stopped.id).inspect())).toBe(true);
  });

  it('is refused while destructive operations are disabled', async () => {
    const err = await callErr(
      'docker_system_prune',
      { filters: scope().filters },
      { profile: { allowDestructive: false } },
    );

    expect(err.kind).toBe('policy_denied');
  });
});

type EventsOut = {
  events: {
    time: string;
    type: string;
    action: string;
    id: string;
    name?: string;
    attributes?: Record<string, string>;
  }[];
  count: number;
  ended: 'max_events' | 'max_wait' | 'until' | 'closed';
  note?: string;
};

describe('docker_events', () => {
  /** A container started and killed inside [since, until]. */
  async function lifecycleWindow() {
    const since = nowSeconds() - 1;
    const c = await makeContainer({ start: false });
    const container = testDocker().getContainer(c.id);
    await container.start();
    await container.kill();
    await container.wait();
    return { ...c, since: String(since), until: String(nowSeconds() + 1) };
  }

  it("shows a container's start, kill and die inside a window, filtered to that container", async () => {
    const { id, name, since, until } = await lifecycleWindow();

    const out = await callOk<EventsOut>('docker_events', { since, until, filters: { container: [id] } });

    expect(out.ended).toBe('until');
    expect(out.events.map((e) => e.action)).toEqual(
      expect.arrayContaining(['create', 'start', 'kill', 'die']),
    );
    for (const e of out.events) expect(e).toMatchObject({ type: 'container', id: id.slice(0, 12), name });
    expect(out.events.find((e) => e.action === 'die')?.attributes).toMatchObject({
      image: reportedImage(TEST_IMAGE),
      exitCode: '137',
    });
    const signal = podmanDiffers('event-attributes') ? undefined : '9';
    expect(out.events.find((e) => e.action === 'kill')?.attributes?.signal).toBe(signal);
    expect(Date.parse(out.events[0]?.time ?? '')).toBeGreaterThanOrEqual(Number(since) * 1000);
    expect(out.count).toBe(out.events.length);
  });

  it('lists health check execs as any exec, and says how to leave exec events out when they crowd the window', async () => {
    const since = nowSeconds() - 1;
    const name = uniqueName('mcpt-hc');
    const c = await testDocker().createContainer({
      name,
      Image: TEST_IMAGE,
      Cmd: ['sleep', '3600'],
      Labels: testLabels(),
      Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 300_000_000, Timeout: 2_000_000_000 },
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    // An exec with the health check's own command: it is listed, as the engine's events list it.
    const exec = await c.exec({ Cmd: ['/bin/sh', '-c', 'true'], AttachStdout: true });
    await new Promise<void>((resolve, reject) =>
      exec.start({}, (e, stream) => (e ? reject(e) : stream?.on('end', resolve).resume())),
    );
    await Bun.sleep(2500);
    const window = { since: String(since), until: String(nowSeconds() + 1), filters: { container: [name] } };

    const out = await callOk<EventsOut>('docker_events', window);

    const starts = out.events.filter((e) => e.action === 'exec_start: /bin/sh -c true');
    if (podmanDiffers('no-health-checks-here')) {
      // One exec, no health check runs: nothing crowds the window.
      expect(out.events.filter((e) => e.action.startsWith('exec_'))).toHaveLength(
        podmanDiffers('exec-events') ? 1 : 3,
      );
      expect(out.note).toBeUndefined();
    } else {
      expect(starts.length).toBeGreaterThanOrEqual(3);
      expect(out.note).toContain('are exec events (health checks run as execs');
      expect(out.note).toContain('filters.event');
      // As the note says: naming the events wanted leaves the execs out.
      const named = await callOk<EventsOut>('docker_events', {
        ...window,
        filters: { ...window.filters, event: ['create', 'start', 'health_status'] },
      });
      expect(named.events.some((e) => e.action.startsWith('exec_'))).toBe(false);
      expect(named.events.map((e) => e.action)).toContain('start');
      expect(named.note).toBeUndefined();
    }
  });

  it('stops at max_events and says so', async () => {
    const { id, since, until } = await lifecycleWindow();

    const out = await callOk<EventsOut>('docker_events', {
      since,
      until,
      filters: { container: [id] },
      max_events: 2,
    });

    expect(out.ended).toBe('max_events');
    const second = podmanDiffers('init-event') ? 'init' : 'start';
    expect(out.events.map((e) => e.action)).toEqual(['create', second]);
  });

  it('returns an empty list when max_wait elapses with no matching events', async () => {
    const out = await callOk<EventsOut>('docker_events', {
      filters: { container: [uniqueName('mcpt-none')] },
      max_wait: 0.5,
    });

    expect(out).toEqual({ events: [], count: 0, ended: 'max_wait' });
  });

  it('returns at once when until is already past, whatever max_wait says', async () => {
    const out = await callOk<EventsOut>('docker_events', {
      since: '2h',
      until: '1h',
      filters: { container: [uniqueName('mcpt-none')] },
      max_wait: 60,
    });

    expect(out).toEqual({ events: [], count: 0, ended: 'until' });
  });

  it('delivers a live event as it happens and returns without waiting out max_wait', async () => {
    const { id } = await makeContainer({ start: false });
    const pending = callOk<EventsOut>('docker_events', {
      filters: { container: [id], event: ['start'] },
      max_events: 1,
      max_wait: 30,
    });
    await Bun.sleep(300);
    await testDocker().getContainer(id).start();

    const out = await pending;

    expect(out.ended).toBe('max_events');
    expect(out.events).toHaveLength(1);
    expect(out.events[0]).toMatchObject({ type: 'container', action: 'start', id: id.slice(0, 12) });
  });

  it('ends at once, as engine_unreachable, when the engine goes away mid-read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpt-ev-'));
    const sock = join(dir, 'docker.sock');
    const proxy = socketProxy(sock, (process.env.DOCKER_HOST ?? '').replace(/^unix:\/\//, ''));
    try {
      await proxy.start();
      const pending = callErr(
        'docker_events',
        { filters: { container: [uniqueName('mcpt-none')] }, max_wait: 30 },
        { engine: engineAt(`unix://${sock}`) },
      );
      await Bun.sleep(300);
      await proxy.stop();

      expect((await pending).kind).toBe('engine_unreachable');
    } finally {
      await proxy.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects until before since, and a since that is not a time, naming the field', async () => {
    const backwards = await callErr('docker_events', { since: '1m', until: '2h' });
    const garbage = await callErr('docker_events', { since: 'yesterday-ish' });

    expect(backwards.kind).toBe('invalid_argument');
    expect(backwards.message).toContain("'until'");
    expect(garbage.kind).toBe('invalid_argument');
    expect(garbage.message).toContain("'since'");
  });

  it('rejects a filter key the engine would ignore, naming it and the known ones', async () => {
    const err = await callErr('docker_events', { since: '1m', filters: { typo: ['volume'] } });
    expect(err.kind).toBe('invalid_argument');
    expect(err.message).toBe("invalid argument 'filters.typo': not an event filter");
    expect(err.hint).toContain('container, daemon, event');
  });
});

type Health = {
  reachable: boolean;
  endpoint?: string;
  source?: string;
  api_version?: string;
  server_version?: string;
  latency_ms?: number;
  error?: string;
  hint?: string;
  tried?: { endpoint: string; source: string; outcome: string }[];
  server: { name: string; version: string };
  safety: { mode: string; tiers: string[]; allowed_tools?: string[]; denied_tools?: string[] };
};

describe('docker_healthcheck', () => {
  it('reports the endpoint, how it was found, the API version in use and the safety mode', async () => {
    const engine = await testDocker().version();

    const out = await callOk<Health>('docker_healthcheck');

    expect(out).toMatchObject({
      reachable: true,
      endpoint: process.env.DOCKER_HOST,
      source: 'DOCKER_HOST',
      api_version: negotiate(engine.ApiVersion),
      server_version: engine.Version,
      server: { name: 'mcp-docker', version: VERSION },
      safety: { mode: 'all tiers', tiers: ['safe', 'moderate', 'destructive'] },
    });
    expect(Number.isInteger(out.latency_ms)).toBe(true);
    expect(out.tried).toBeUndefined();
  });

  it('names a read-only mode and the tool lists when they are set', async () => {
    const out = await callOk<Health>(
      'docker_healthcheck',
      {},
      { profile: { readOnly: true, deniedTools: ['docker_events'] } },
    );

    expect(out.safety).toEqual({ mode: 'read-only', tiers: ['safe'], denied_tools: ['docker_events'] });
  });

  it('answers reachable: false with what it tried and the fix when no engine is there', async () => {
    const endpoint = `unix://${join(tmpdir(), `${uniqueName('mcpt-nosock')}.sock`)}`;
    const engine = engineAt(endpoint);

    const out = await callOk<Health>('docker_healthcheck', {}, { engine });

    expect(out.reachable).toBe(false);
    expect(out.tried).toEqual([{ endpoint, source: 'DOCKER_HOST', outcome: 'no socket there' }]);
    expect(out.error).toBe('no Docker engine answered');
    expect(out.hint).toContain('DOCKER_HOST');
    expect(out.safety.mode).toBe('all tiers');
    expect(out.endpoint).toBeUndefined();
    // Every other tool still fails on the same engine.
    expect((await callErr('docker_system_info', {}, { engine })).kind).toBe('engine_unreachable');
  });

  it('says why nothing was tried when the selected Docker context does not exist', async () => {
    const configDir = mkdtempSync(join(tmpdir(), 'mcpt-cfg-'));
    const engine = new Engine({
      dockerContext: 'mcpt-no-such-context',
      dockerConfigDir: configDir,
      tlsVerify: false,
      home: '/nonexistent',
      platform: 'linux',
    });

    const out = await callOk<Health>('docker_healthcheck', {}, { engine });
    rmSync(configDir, { recursive: true, force: true });

    expect(out).toMatchObject({ reachable: false, tried: [] });
    expect(out.error).toContain("Docker context 'mcpt-no-such-context'");
  });

  it('notices the engine going away and coming back, without a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcpt-hc-'));
    const sock = join(dir, 'docker.sock');
    const proxy = socketProxy(sock, (process.env.DOCKER_HOST ?? '').replace(/^unix:\/\//, ''));
    const engine = engineAt(`unix://${sock}`);
    try {
      await proxy.start();
      expect((await callOk<Health>('docker_healthcheck', {}, { engine })).reachable).toBe(true);

      await proxy.stop();
      const down = await callOk<Health>('docker_healthcheck', {}, { engine });
      expect(down.reachable).toBe(false);
      expect(down.tried?.[0]).toMatchObject({ endpoint: `unix://${sock}`, source: 'DOCKER_HOST' });

      await proxy.start();
      expect(await callOk<Health>('docker_healthcheck', {}, { engine })).toMatchObject({
        reachable: true,
        endpoint: `unix://${sock}`,
      });
    } finally {
      await proxy.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
