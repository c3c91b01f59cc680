/**
 * What a remote caller does not see: the engine host's paths, wherever a tool returns them. Each tool
 * declares its fields (`hostDetails`); these tests hold the declarations to the output schemas (a
 * field named like a host path) and to the engine documents the full views pass through.
 */
import { describe, expect, it } from 'bun:test';
import { HIDDEN, hideHostDetails } from '../../src/core/host-details.ts';
import { catalogue } from '../../src/tools/index.ts';

/** Output fields whose value is a path on the engine host. */
const HOST_PATH_FIELDS = new Set(['mountpoint', 'Mountpoint', 'config_files', 'working_dir', 'root_dir']);

/** Paths ('a.*.b') of the output schema's properties named in HOST_PATH_FIELDS. */
function hostPathFields(schema: unknown, path: string[] = [], out: string[] = []): string[] {
  if (!schema || typeof schema !== 'object') return out;
  const s = schema as Record<string, unknown>;
  for (const k of ['anyOf', 'oneOf', 'allOf'])
    if (Array.isArray(s[k])) for (const x of s[k]) hostPathFields(x, path, out);
  if (s.properties && typeof s.properties === 'object')
    for (const [k, v] of Object.entries(s.properties)) {
      if (HOST_PATH_FIELDS.has(k)) out.push([...path, k].join('.'));
      hostPathFields(v, [...path, k], out);
    }
  if (typeof s.additionalProperties === 'object') hostPathFields(s.additionalProperties, [...path, '*'], out);
  if (s.items) hostPathFields(s.items, [...path, '*'], out);
  return out;
}

/** Whether a declared path ('projects.*.config_files', 'mounts.*:source') takes in `path`. */
const covers = (declared: string, path: string) => {
  const d = declared.replace(/:(?:source|labels)$/, '');
  return path === d || path.startsWith(`${d}.`);
};

const tool = (name: string) => {
  const t = catalogue.find((x) => x.name === name);
  if (!t) throw new Error(`no tool ${name}`);
  return t;
};

/** Strings left in `value` that name an absolute host path. */
function pathsLeft(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (/(?:^|[\s:'"=])\/(?:srv|var|tmp|home)\b/.test(value)) out.push(value);
  } else if (Array.isArray(value)) for (const v of value) pathsLeft(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) pathsLeft(v, out);
  return out;
}

const ROOT = '/var/lib/docker';
const mounts = [
  { Type: 'volume', Name: 'data', Source: `${ROOT}/volumes/data/_data`, Destination: '/data', RW: true },
  { Type: 'bind', Source: '/srv/app', Destination: '/app', RW: false },
];
const labels = {
  'com.docker.compose.project': 'p',
  'com.docker.compose.project.config_files': '/home/ops/p/compose.yaml',
  'com.docker.compose.project.working_dir': '/home/ops/p',
};
const graph = { Name: 'overlay2', Data: { LowerDir: `${ROOT}/overlay2/a/diff:${ROOT}/overlay2/b/diff` } };

/** Engine documents as the full views (and the compact views built from them) return them. */
const documents: [string, Record<string, unknown>][] = [
  [
    'docker_inspect_container',
    {
      Id: 'c1',
      LogPath: `${ROOT}/containers/c1/c1-json.log`,
      ResolvConfPath: `${ROOT}/containers/c1/resolv.conf`,
      HostsPath: `${ROOT}/containers/c1/hosts`,
      HostnamePath: `${ROOT}/containers/c1/hostname`,
      GraphDriver: graph,
      Mounts: mounts,
      HostConfig: {
        Binds: ['/srv/app:/app:ro'],
        Mounts: [{ Type: 'bind', Source: '/srv/other', Target: '/o' }],
        ContainerIDFile: '/tmp/cid',
      },
      NetworkSettings: { SandboxKey: '/var/run/docker/netns/abc' },
      Config: { WorkingDir: '/work', Cmd: ['/bin/sh'], Labels: labels },
    },
  ],
  [
    'docker_inspect_container',
    { id: 'c1', mounts: ['data:/data', '/srv/app:/app:ro'], working_dir: '/w', labels },
  ],
  ['docker_inspect_image', { Id: 'sha256:1', GraphDriver: graph }],
  [
    'docker_inspect_volume',
    { name: 'v', mountpoint: `${ROOT}/volumes/v/_data`, options: { device: '/srv/v' } },
  ],
  [
    'docker_inspect_volume',
    { Name: 'v', Mountpoint: `${ROOT}/volumes/v/_data`, Options: { device: '/srv/v' } },
  ],
  [
    'docker_create_volume',
    { name: 'v', mountpoint: `${ROOT}/volumes/v/_data`, options: { device: '/srv/v' } },
  ],
  ['docker_list_containers', { containers: [{ Id: 'c1', Mounts: mounts, Labels: labels }], count: 1 }],
  [
    'docker_system_df',
    {
      size: 1,
      items: {
        containers: [{ Id: 'c1', Mounts: mounts, Labels: labels }],
        volumes: [{ Name: 'v', Mountpoint: `${ROOT}/volumes/v/_data`, Options: { device: '/srv/v' } }],
      },
    },
  ],
  [
    'docker_compose_ls',
    { projects: [{ name: 'p', status: 'running(1)', config_files: '/home/ops/p/compose.yaml' }] },
  ],
  [
    'docker_compose_config',
    {
      name: 'p',
      working_dir: '/home/ops/p',
      config_files: ['/home/ops/p/compose.yaml'],
      services: {
        web: { image: 'x', build: '/home/ops/p/web', volumes: ['/home/ops/p/data:/data', 'cache:/c'] },
      },
    },
  ],
  ['docker_system_info', { name: 'host', root_dir: ROOT, DockerRootDir: ROOT }],
  ['docker_service_inspect', { name: 's', mounts: ['/srv/s:/data:ro', 'vol:/v'] }],
  [
    'docker_service_inspect',
    {
      Spec: {
        TaskTemplate: { ContainerSpec: { Mounts: [{ Type: 'bind', Source: '/srv/s', Target: '/d' }] } },
      },
    },
  ],
  [
    'docker_service_list',
    {
      services: [
        {
          Spec: {
            TaskTemplate: { ContainerSpec: { Mounts: [{ Type: 'bind', Source: '/srv/s', Target: '/d' }] } },
          },
        },
      ],
    },
  ],
  [
    'docker_task_list',
    { tasks: [{ Spec: { ContainerSpec: { Mounts: [{ Type: 'bind', Source: '/srv/s', Target: '/d' }] } } }] },
  ],
];

describe('host paths across the catalogue', () => {
  it('every output field named like a host path is declared hostDetails by its tool', () => {
    const missing = catalogue.flatMap((t) =>
      hostPathFields(t.output)
        .filter((p) => !(t.hostDetails ?? []).some((d) => covers(d, p)))
        .map((p) => `${t.name}: ${p}`),
    );
    expect(missing).toEqual([]);
  });

  it.each(documents)('%s hides every engine-host path a remote caller would read', (name, doc) => {
    const out = hideHostDetails(doc, tool(name).hostDetails ?? []);
    expect(pathsLeft(out)).toEqual([]);
    expect(JSON.stringify(out)).toContain(HIDDEN);
  });

  it("keeps what is the container's own: a mount's target, a volume's name, the working dir inside", () => {
    const out = hideHostDetails(
      documents[1]?.[1] as Record<string, unknown>,
      tool('docker_inspect_container').hostDetails ?? [],
    );
    const shownLabels = {
      'com.docker.compose.project': 'p',
      'com.docker.compose.project.config_files': HIDDEN,
      'com.docker.compose.project.working_dir': HIDDEN,
    };
    expect(out).toEqual({
      id: 'c1',
      mounts: ['data:/data', `${HIDDEN}:/app:ro`],
      working_dir: '/w',
      labels: shownLabels,
    });
    const full = hideHostDetails(
      documents[0]?.[1] as Record<string, unknown>,
      tool('docker_inspect_container').hostDetails ?? [],
    );
    expect(full.Mounts).toEqual(mounts.map((m) => ({ ...m, Source: HIDDEN })));
    expect(full.Config).toEqual({ WorkingDir: '/work', Cmd: ['/bin/sh'], Labels: shownLabels });
  });
});

describe("an ':origin' path", () => {
  it('hides the path after a kind word, whole even with blanks, and leaves any other kind', () => {
    const out = hideHostDetails(
      {
        secrets: [
          { name: 'a', from: 'file /srv/my project/s.txt' },
          { name: 'b', from: 'environment TOKEN' },
          { name: 'c', from: 'external' },
        ],
      },
      ['secrets.*.from:origin'],
    );
    expect(out.secrets).toEqual([
      { name: 'a', from: 'file <hidden>' },
      { name: 'b', from: 'environment TOKEN' },
      { name: 'c', from: 'external' },
    ]);
  });
});
