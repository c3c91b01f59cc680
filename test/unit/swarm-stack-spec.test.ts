/**
 * A Compose service as the ServiceSpec `docker stack deploy` sends: names, namespace labels, network
 * aliases, secrets and configs by ID, ports, modes, restart and update policies, volumes, durations,
 * and the keys a swarm service ignores. Pure: the project comes from in-memory files.
 */
import { describe, expect, it } from 'bun:test';
import { loadProject, type Project } from '../../src/docker/compose/load.ts';
import { convertService, type SpecRefs } from '../../src/docker/swarm/stack-spec.ts';

const load = (yaml: string): Promise<Project> =>
  loadProject({ content: yaml, project_name: 'shop' }, { read: async () => undefined, home: '/root' });

const refs: SpecRefs = {
  secrets: new Map([['shop_db_pw', 'SECRETID']]),
  configs: new Map([['shop_nginx', 'CONFIGID']]),
};

// biome-ignore lint/suspicious/noExplicitAny: the engine's spec is read field by field in assertions.
type Spec = Record<string, any>;
const spec = async (yaml: string, service: string) => convertService(await load(yaml), 'shop', service, refs);

const FILE = `
services:
  web:
    image: nginx:1.25
    command: nginx -g "daemon off;"
    labels: { role: front }
    environment: { A: "1", B: null }
    networks:
      front: { aliases: [www] }
    ports: ["8080:80", { target: 443, published: 8443, mode: host }]
    secrets: [db_pw]
    configs: [{ source: nginx, target: /etc/nginx/nginx.conf, mode: 0o440 }]
    volumes: [data:/srv, { type: tmpfs, target: /cache }]
    stop_grace_period: 1m30s
    extra_hosts: ["db.local:10.0.0.5"]
    restart: on-failure:3
    privileged: true
    cgroup_parent: custom
    depends_on: [api]
    deploy:
      replicas: 3
      labels: { team: a }
      resources: { limits: { cpus: "0.5", memory: 64M }, reservations: { memory: 32M } }
      update_config: { parallelism: 2, delay: 10s, order: start-first, failure_action: rollback }
      placement: { constraints: ["node.role==worker"], preferences: [{ spread: node.labels.zone }] }
  api:
    image: api:1
    deploy: { mode: global, restart_policy: { condition: any, delay: 5s } }
networks:
  front: {}
volumes:
  data: { driver_opts: { type: tmpfs, device: tmpfs } }
secrets:
  db_pw: { file: /run/pw.txt }
configs:
  nginx: { file: /srv/nginx.conf }
`;

describe('convertService', () => {
  it('names the service <stack>_<name> and labels it, its containers and its image as the CLI does', async () => {
    const { name, spec: s } = await spec(FILE, 'web');
    expect(name).toBe('shop_web');
    expect(s.Name).toBe('shop_web');
    expect(s.Labels).toEqual({
      team: 'a',
      'com.docker.stack.namespace': 'shop',
      'com.docker.stack.image': 'nginx:1.25',
    });
    const c = (s.TaskTemplate as Spec).ContainerSpec;
    expect(c.Labels).toEqual({ role: 'front', 'com.docker.stack.namespace': 'shop' });
    expect(c.Image).toBe('nginx:1.25');
    expect(c.Args).toEqual(['nginx', '-g', 'daemon off;']);
    expect(c.Command).toBeUndefined();
    expect(c.Env).toEqual(['A=1', 'B']);
  });

  it('joins the stack networks with the service name as an alias, and <stack>_default when none are named', async () => {
    const web = (await spec(FILE, 'web')).spec as Spec;
    expect(web.TaskTemplate.Networks).toEqual([{ Target: 'shop_front', Aliases: ['web', 'www'] }]);
    const api = (await spec(FILE, 'api')).spec as Spec;
    expect(api.TaskTemplate.Networks).toEqual([{ Target: 'shop_default', Aliases: ['api'] }]);
  });

  it('references secrets and configs by the IDs made for them, with the file targets and modes', async () => {
    const c = ((await spec(FILE, 'web')).spec as Spec).TaskTemplate.ContainerSpec;
    expect(c.Secrets).toEqual([
      {
        File: { Name: 'db_pw', UID: '0', GID: '0', Mode: 0o444 },
        SecretID: 'SECRETID',
        SecretName: 'shop_db_pw',
      },
    ]);
    expect(c.Configs).toEqual([
      {
        File: { Name: '/etc/nginx/nginx.conf', UID: '0', GID: '0', Mode: 0o440 },
        ConfigID: 'CONFIGID',
        ConfigName: 'shop_nginx',
      },
    ]);
  });

  it('publishes ports in ingress mode unless the file says host', async () => {
    const s = (await spec(FILE, 'web')).spec as Spec;
    expect(s.EndpointSpec.Ports).toEqual([
      { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
      { Protocol: 'tcp', TargetPort: 443, PublishedPort: 8443, PublishMode: 'host' },
    ]);
  });

  it('maps deploy: replicas, global mode, resources, restart, update and placement', async () => {
    const web = (await spec(FILE, 'web')).spec as Spec;
    expect(web.Mode).toEqual({ Replicated: { Replicas: 3 } });
    expect(web.TaskTemplate.Resources).toEqual({
      Limits: { NanoCPUs: 500_000_000, MemoryBytes: 64 * 1024 * 1024 },
      Reservations: { MemoryBytes: 32 * 1024 * 1024 },
    });
    // No restart_policy: the service's restart: is used, as the CLI does.
    expect(web.TaskTemplate.RestartPolicy).toEqual({ Condition: 'on-failure', MaxAttempts: 3 });
    expect(web.UpdateConfig).toEqual({
      Parallelism: 2,
      Delay: 10e9,
      FailureAction: 'rollback',
      Order: 'start-first',
    });
    expect(web.TaskTemplate.Placement).toEqual({
      Constraints: ['node.role==worker'],
      Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }],
    });
    const api = (await spec(FILE, 'api')).spec as Spec;
    expect(api.Mode).toEqual({ Global: {} });
    expect(api.TaskTemplate.RestartPolicy).toEqual({ Condition: 'any', Delay: 5e9 });
  });

  it('mounts named volumes as <stack>_<name> with the namespace label, and tmpfs as tmpfs', async () => {
    const c = ((await spec(FILE, 'web')).spec as Spec).TaskTemplate.ContainerSpec;
    expect(c.Mounts).toEqual([
      {
        Type: 'volume',
        Target: '/srv',
        Source: 'shop_data',
        VolumeOptions: {
          Labels: { 'com.docker.stack.namespace': 'shop' },
          DriverConfig: { Options: { type: 'tmpfs', device: 'tmpfs' } },
        },
      },
      { Type: 'tmpfs', Target: '/cache', TmpfsOptions: {} },
    ]);
  });

  it('converts durations to nanoseconds and extra_hosts to the engine "IP host" form', async () => {
    const c = ((await spec(FILE, 'web')).spec as Spec).TaskTemplate.ContainerSpec;
    expect(c.StopGracePeriod).toBe(90e9);
    expect(c.Hosts).toEqual(['10.0.0.5 db.local']);
  });

  it('lists the keys a swarm service ignores instead of dropping them silently', async () => {
    expect((await spec(FILE, 'web')).ignored.sort()).toEqual(['cgroup_parent', 'depends_on', 'privileged']);
    expect((await spec(FILE, 'api')).ignored).toEqual([]);
  });

  it('refuses a service without an image, and a secret not declared at the top level', async () => {
    expect(spec('services:\n  b:\n    build: /src\n', 'b')).rejects.toThrow('needs an image');
    expect(spec('services:\n  a:\n    image: x\n    secrets: [nope]\n', 'a')).rejects.toThrow(
      'not declared at the top level',
    );
  });
});

describe('what a swarm cannot honour, named; what the CLI maps, mapped', () => {
  const FILE2 = `
services:
  web:
    image: nginx:1.25
    ports: ["127.0.0.1:8080:80", "0.0.0.0:8081:81", "8082:82"]
    deploy:
      resources:
        reservations:
          cpus: "0.5"
          generic_resources:
            - discrete_resource_spec: { kind: gpu, value: 2 }
          devices:
            - capabilities: [gpu]
`;
  it("names a port's host address (published everywhere) and device reservations in ignored", async () => {
    const c = await spec(FILE2, 'web');
    expect(c.ignored).toEqual([
      'ports[0].host_ip 127.0.0.1 (a swarm publishes on every interface of every node)',
      'deploy.resources.reservations.devices (a swarm service has no devices; see generic_resources)',
    ]);
  });

  it('maps generic_resources to Resources.Reservations.GenericResources', async () => {
    const s = (await spec(FILE2, 'web')).spec as Spec;
    expect(s.TaskTemplate.Resources.Reservations).toEqual({
      NanoCPUs: 500_000_000,
      GenericResources: [{ DiscreteResourceSpec: { Kind: 'gpu', Value: 2 } }],
    });
  });
});
