/**
 * Issue 16's service specs in the security suite: privileged equivalents written into a Swarm service
 * — a bind of / or of an engine socket or data root, added capabilities, the host network, devices, a
 * hostile spec made outside and then updated, scaled or rolled back — against the compiled binary on
 * the test Swarm (test/helpers/swarm-cluster.ts), in the default configuration. A refusal must be
 * policy_denied, name what it refuses in the caller's terms and the setting that would allow it, and
 * leave the cluster's services, secrets, configs and networks and both nodes' containers exactly as
 * they were. Host-mode published ports are allowed (Swarm cannot bind an address; the result says so),
 * checked with no replica so nothing listens; devices and privileged in a stack are reported ignored,
 * as `docker stack deploy` ignores them (a service spec has no field for them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorOf, type RunningServer, startServer, structured } from '../helpers/client.ts';
import { TEST_IMAGE } from '../helpers/engine.ts';
import { withSwarm } from '../helpers/swarm.ts';
import { SETTING_NAMES, type Setting } from './matrix.ts';

const swarm = withSwarm();
const TOKEN = `mcpt-secsw-${Date.now().toString(36)}`;
const work = mkdtempSync(join(tmpdir(), 'mcpt-secsw-'));
const sleep = ['sh', '-c', 'trap "exit 0" TERM; sleep 3600 & wait'];
const HOSTILE = `${TOKEN}-hostile`;
const TURNED = `${TOKEN}-turned`;
const PLAIN = `${TOKEN}-plain`;
let server: RunningServer;
/** The manager engine's own socket and data root, as it reports them. */
let socket = '';
let dataRoot = '';

type Obj = Record<string, unknown>;
interface Doc {
  ID: string;
  Version: { Index: number };
  Spec: Obj & { Name: string; Labels?: Record<string, string> };
}

/** A spec made through the raw Engine API, as another client could: no replica, so it never runs. */
const rawSpec = (name: string, container: Obj = {}) => ({
  Name: name,
  Labels: swarm().labels,
  TaskTemplate: { ContainerSpec: { Image: TEST_IMAGE, Args: sleep, ...container } },
  Mode: { Replicated: { Replicas: 0 } },
});
const inspect = (name: string) => swarm().raw<Doc>('manager', 'GET', `/services/${name}`);
const rawUpdate = async (name: string, container: Obj) =>
  swarm().raw(
    'manager',
    'POST',
    `/services/${name}/update?version=${(await inspect(name)).Version.Index}`,
    rawSpec(name, container),
  );

beforeAll(async () => {
  const s = swarm();
  socket = s.manager.host.replace(/^unix:\/\//, '');
  dataRoot = (await s.raw<{ DockerRootDir: string }>('manager', 'GET', '/info')).DockerRootDir;
  await s.raw('manager', 'POST', '/services/create', rawSpec(HOSTILE, { CapabilityAdd: ['ALL'] }));
  await s.raw('manager', 'POST', '/services/create', rawSpec(PLAIN));
  // Its previous spec binds the host's root: a rollback would bring it back.
  await s.raw('manager', 'POST', '/services/create', rawSpec(TURNED));
  await rawUpdate(TURNED, { Mounts: [{ Type: 'bind', Source: '/', Target: '/host' }] });
  await rawUpdate(TURNED, {});
  server = await startServer({
    env: { DOCKER_HOST: s.manager.host },
    args: ['--toolsets', 'default,swarm'],
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  const s = swarm();
  const mine = await s.raw<Doc[]>('manager', 'GET', '/services').catch(() => [] as Doc[]);
  for (const d of mine.filter((x) => x.Spec.Name.startsWith(TOKEN)))
    await s.raw('manager', 'DELETE', `/services/${d.ID}`).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
}, 60_000);

/** Everything a refused call could have touched: the cluster's objects and both nodes' containers. */
async function snapshot(): Promise<Obj> {
  const s = swarm();
  const out: Obj = {};
  for (const d of await s.raw<Doc[]>('manager', 'GET', '/services'))
    out[`service ${d.Spec.Name}`] = { id: d.ID, version: d.Version.Index, spec: d.Spec };
  for (const kind of ['secrets', 'configs'] as const)
    for (const d of await s.raw<Doc[]>('manager', 'GET', `/${kind}`))
      out[`${kind} ${d.Spec.Name}`] = d.Version.Index;
  for (const node of ['manager', 'worker'] as const) {
    for (const n of await s.raw<{ Name: string; Id: string }[]>(node, 'GET', '/networks'))
      out[`${node} network ${n.Name}`] = n.Id;
    for (const c of await s.raw<{ Id: string; State: string }[]>(node, 'GET', '/containers/json?all=1'))
      out[`${node} container ${c.Id}`] = c.State;
  }
  return out;
}

/** A Compose project in its own directory under the temp dir (an allowed root). */
function project(name: string, compose: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'compose.yaml'), compose.replaceAll('{image}', TEST_IMAGE));
  return dir;
}
const stack = (name: string, service: string) => ({
  project_dir: project(name, `services:\n  a:\n    image: {image}\n    deploy: { replicas: 0 }\n${service}`),
  project_name: `${TOKEN}-${name}`,
});

interface Refusal {
  variant: string;
  tool: string;
  args: () => Obj;
  /** What the message or hint names: each entry, one of these strings. */
  names: (string | string[])[];
  setting: Setting;
}

const REFUSALS: Refusal[] = [
  {
    variant: 'bind of / in mounts',
    tool: 'docker_service_create',
    args: () => ({ name: `${TOKEN}-root`, image: TEST_IMAGE, mounts: ['/:/host'] }),
    names: ["mounts[0]: host path '/'"],
    setting: 'allowlist',
  },
  {
    variant: 'bind of the default engine socket',
    tool: 'docker_service_create',
    args: () => ({ name: `${TOKEN}-sock`, image: TEST_IMAGE, mounts: ['/var/run/docker.sock:/s'] }),
    names: ['mounts[0]', '/var/run/docker.sock'],
    setting: 'allowlist',
  },
  {
    variant: "bind of this engine's own socket (under the temp dir, an allowed root)",
    tool: 'docker_service_create',
    args: () => ({ name: `${TOKEN}-own`, image: TEST_IMAGE, mounts: [`${socket}:/var/run/docker.sock`] }),
    names: ['mounts[0]'],
    setting: 'allowlist',
  },
  {
    variant: "bind of this engine's data root",
    tool: 'docker_service_create',
    args: () => ({ name: `${TOKEN}-data`, image: TEST_IMAGE, mounts: [`${dataRoot}:/d`] }),
    names: ['mounts[0]'],
    setting: 'allowlist',
  },
  {
    variant: 'the host network',
    tool: 'docker_service_create',
    args: () => ({ name: `${TOKEN}-net`, image: TEST_IMAGE, networks: ['host'] }),
    names: ['networks', 'host'],
    setting: 'privileged',
  },
  {
    variant: 'bind of / added by an update',
    tool: 'docker_service_update',
    args: () => ({ service: PLAIN, mounts: ['data:/data', '/:/host'] }),
    names: ["mounts[1]: host path '/'"],
    setting: 'allowlist',
  },
  {
    variant: 'an update of a service made outside with CapabilityAdd ALL',
    tool: 'docker_service_update',
    args: () => ({ service: HOSTILE, env: { MODE: 'x' } }),
    names: [`service '${HOSTILE}' as it is now`, "capability 'ALL'"],
    setting: 'privileged',
  },
  {
    variant: 'scaling a service made outside with CapabilityAdd ALL',
    tool: 'docker_service_scale',
    args: () => ({ service: HOSTILE, replicas: 1 }),
    names: [`service '${HOSTILE}' as it is now`, 'CapabilityAdd'],
    setting: 'privileged',
  },
  {
    variant: 'a rollback to a previous spec binding / (made outside)',
    tool: 'docker_service_rollback',
    args: () => ({ service: TURNED }),
    names: ['rollback', "host path '/'"],
    setting: 'allowlist',
  },
  {
    variant: 'cap_add SYS_ADMIN',
    tool: 'docker_service_create',
    args: () => ({ name: `${TOKEN}-capsys`, image: TEST_IMAGE, cap_add: ['SYS_ADMIN'] }),
    names: ["cap_add[0]: capability 'SYS_ADMIN'"],
    setting: 'privileged',
  },
  {
    variant: 'cap_add ALL added by an update',
    tool: 'docker_service_update',
    args: () => ({ service: PLAIN, cap_drop: ['ALL'], cap_add: ['CHOWN', 'ALL'] }),
    names: ["cap_add[1]: capability 'ALL'"],
    setting: 'privileged',
  },
  {
    variant: 'cap_add ALL in a stack',
    tool: 'docker_stack_deploy',
    args: () => stack('capall', '    cap_add: [ALL]\n'),
    names: ['service "a" (key cap_add)', "capability 'ALL'", 'nothing was deployed'],
    setting: 'privileged',
  },
  {
    variant: 'cap_add SYS_ADMIN in a stack',
    tool: 'docker_stack_deploy',
    args: () => stack('sysadmin', '    cap_add: [CAP_SYS_ADMIN]\n'),
    names: ['service "a" (key cap_add)', "capability 'SYS_ADMIN'"],
    setting: 'privileged',
  },
  {
    variant: 'bind of / in a stack',
    tool: 'docker_stack_deploy',
    args: () => stack('root', '    volumes: ["/:/host"]\n'),
    names: ['service "a" (key volumes)', "host path '/'"],
    setting: 'allowlist',
  },
  {
    variant: 'bind of the engine socket in a stack',
    tool: 'docker_stack_deploy',
    args: () => stack('sock', `    volumes: ["${socket}:/var/run/docker.sock"]\n`),
    names: ['service "a" (key volumes)'],
    setting: 'allowlist',
  },
  {
    variant: 'the host network in a stack (an external network named host)',
    tool: 'docker_stack_deploy',
    args: () =>
      stack(
        'hostnet',
        '    networks: [hostnet]\nnetworks:\n  hostnet:\n    external: true\n    name: host\n',
      ),
    names: ['service "a" (key networks)', 'host network'],
    setting: 'privileged',
  },
];

describe('security: swarm service specs are refused and change nothing (v2 client)', () => {
  for (const row of REFUSALS)
    it(`${row.variant} · ${row.tool}`, async () => {
      const before = await snapshot();
      const result = await server.client.callTool(row.tool, row.args(), { timeout: 60_000 });
      const after = await snapshot();
      const err = errorOf(result);
      const said = `${err.message}\n${err.hint ?? ''}`;
      expect({ said, kind: err.kind }).toEqual({ said, kind: 'policy_denied' });
      for (const want of row.names) {
        const options = typeof want === 'string' ? [want] : want;
        expect({ said, names: options.some((o) => said.includes(o)) }).toEqual({ said, names: true });
      }
      const settings = SETTING_NAMES[row.setting];
      expect({ said, setting: settings.some((o) => said.includes(o)) }).toEqual({ said, setting: true });
      expect(after).toEqual(before);
    });
});

describe('security: swarm settings the policy allows', () => {
  /** Creates an idle service `${TOKEN}-${suffix}` with `settings` through the binary. */
  const create = async (suffix: string, settings: Obj) => {
    const name = `${TOKEN}-${suffix}`;
    const result = await server.client.callTool('docker_service_create', {
      name,
      image: TEST_IMAGE,
      command: sleep,
      replicas: 0,
      ...settings,
    });
    return { name, result };
  };

  it('publishes a host-mode port, and says it listens on every interface of every node', async () => {
    const { name, result } = await create('hostport', { ports: ['mode=host,published=18080,target=80'] });
    const made = structured<{ name: string; note?: string }>(result);
    expect(made.name).toBe(name);
    expect(made.note).toContain('every interface of every node');
    const spec = (await inspect(name)).Spec as { EndpointSpec?: { Ports?: Obj[] } };
    expect(spec.EndpointSpec?.Ports).toEqual([
      { Protocol: 'tcp', PublishMode: 'host', PublishedPort: 18080, TargetPort: 80 },
    ]);
    await swarm().raw('manager', 'DELETE', `/services/${name}`);
  });

  it('drops every capability and adds back a default one, as the engine records it', async () => {
    const { name, result } = await create('caps', { cap_drop: ['ALL'], cap_add: ['NET_BIND_SERVICE'] });
    expect(structured<{ name: string }>(result).name).toBe(name);
    const container = ((await inspect(name)).Spec.TaskTemplate as Obj).ContainerSpec as Obj;
    expect({ add: container.CapabilityAdd, drop: container.CapabilityDrop }).toEqual({
      add: ['NET_BIND_SERVICE'],
      drop: ['ALL'],
    });
    await swarm().raw('manager', 'DELETE', `/services/${name}`);
  });

  it('reports devices and privileged in a stack as ignored, and the service gets neither', async () => {
    const args = stack('ignored', '    privileged: true\n    devices: ["/dev/mem:/dev/mem"]\n');
    const r = structured<{ ignored?: string[] }>(await server.client.callTool('docker_stack_deploy', args));
    expect(JSON.stringify(r.ignored)).toContain('privileged');
    expect(JSON.stringify(r.ignored)).toContain('devices');
    const doc = await inspect(`${args.project_name}_a`);
    const container = JSON.stringify((doc.Spec.TaskTemplate as Obj).ContainerSpec).toLowerCase();
    expect(container).not.toContain('privileg');
    expect(container).not.toContain('/dev/mem');
    await swarm().raw('manager', 'DELETE', `/services/${doc.ID}`);
    for (const n of await swarm().raw<{ Id: string; Name: string }[]>('manager', 'GET', '/networks'))
      if (n.Name.startsWith(args.project_name))
        await swarm()
          .raw('manager', 'DELETE', `/networks/${n.Id}`)
          .catch(() => undefined);
  });
});
