/**
 * Where the loaded model must agree with Docker Compose: the project name and profiles from `.env`,
 * profiles of a service named, bare environment names, booleans after interpolation, the `!reset` and
 * `!override` tags, merging by unique key, and namespaces shared with another service.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose interpolation, not templates.
import { describe, expect, it } from 'bun:test';
import { parseEnvFile } from '../../src/docker/compose/interpolate.ts';
import { type LoadInput, loadProject } from '../../src/docker/compose/load.ts';
import { serviceOrder } from '../../src/docker/compose/project.ts';
import { replicas, serviceSpec } from '../../src/docker/compose/spec.ts';

const load = (files: Record<string, string>, input: LoadInput, processEnv?: Record<string, string>) =>
  loadProject(input, { read: async (p) => files[p], home: '/home/u', processEnv });

describe('the project name and profiles', () => {
  const files = {
    '/w/app/compose.yaml': 'services:\n  a:\n    image: x\n  d:\n    image: y\n    profiles: [dev]\n',
    '/w/app/.env': 'COMPOSE_PROJECT_NAME=fromenv\nCOMPOSE_PROFILES=dev, other\n',
  };

  it('come from COMPOSE_PROJECT_NAME and COMPOSE_PROFILES in .env, as docker compose reads them', async () => {
    const p = await load(files, { project_dir: '/w/app' });
    expect(p.name).toBe('fromenv');
    expect(Object.keys(p.services)).toEqual(['a', 'd']);
    expect(p.disabled).toEqual([]);
  });

  it('follow Compose precedence: project_name, then COMPOSE_PROJECT_NAME (env over .env), then name:, then the directory', async () => {
    const named = { ...files, '/w/app/compose.yaml': `name: fromfile\n${files['/w/app/compose.yaml']}` };
    expect((await load(named, { project_dir: '/w/app', project_name: 'arg' })).name).toBe('arg');
    expect(
      (await load(named, { project_dir: '/w/app', env: { COMPOSE_PROJECT_NAME: 'callenv' } })).name,
    ).toBe('callenv');
    expect((await load(named, { project_dir: '/w/app' })).name).toBe('fromenv');
    const noEnv = { '/w/app/compose.yaml': named['/w/app/compose.yaml'] };
    expect((await load(noEnv, { project_dir: '/w/app' })).name).toBe('fromfile');
    expect((await load(files, { project_dir: '/w/app', env: { COMPOSE_PROJECT_NAME: '' } })).name).toBe(
      'fromenv',
    );
  });

  it("ignore the server's own environment, and take the profiles argument over COMPOSE_PROFILES", async () => {
    const plain = { '/w/app/compose.yaml': files['/w/app/compose.yaml'] };
    const p = await load(
      plain,
      { project_dir: '/w/app' },
      { COMPOSE_PROJECT_NAME: 'server', COMPOSE_PROFILES: 'dev' },
    );
    expect([p.name, p.disabled]).toEqual(['app', ['d']]);
    expect((await load(files, { project_dir: '/w/app', profiles: ['nope'] })).disabled).toEqual(['d']);
  });

  it('refuses a COMPOSE_PROJECT_NAME that is no project name, naming where it came from', async () => {
    await expect(
      load({ ...files, '/w/app/.env': 'COMPOSE_PROJECT_NAME=My.App\n' }, { project_dir: '/w/app' }),
    ).rejects.toThrow(/COMPOSE_PROJECT_NAME in \.env: "My\.App" is not a Compose project name/);
  });

  it("activates a named service's profiles, so its dependencies in them come too (the Compose docs' example)", async () => {
    const yaml = `services:
  frontend: { image: f }
  mock-backend: { image: m, profiles: [dev], depends_on: [db] }
  db: { image: d, profiles: [dev] }
  dbg: { image: g, profiles: [debug], depends_on: [db] }
`;
    const p = await load({}, { content: yaml, project_name: 'pd', services: ['mock-backend'] });
    expect(Object.keys(p.services)).toEqual(['db', 'frontend', 'mock-backend']);
    expect(serviceOrder(p, ['mock-backend'])).toEqual(['db', 'mock-backend']);
    expect(p.disabled).toEqual(['dbg']);
  });
});

describe('a bare environment name', () => {
  it('takes its value from the interpolation environment (env, .env, the server over stdio); unset, it is left out', async () => {
    const files = {
      '/p/compose.yaml':
        'services:\n  a:\n    image: x\n    env_file: [e.env]\n    environment: [FOO, BARE_UNSET, FROMFILE, CALL, X=1]\n',
      '/p/.env': 'FOO=from-dotenv\n',
      '/p/e.env': 'FROMFILE=file\n',
    };
    const p = await load(files, { project_dir: '/p', env: { CALL: 'from-call' } });
    expect(serviceSpec(p, 'a', 1).env?.sort()).toEqual([
      'CALL=from-call',
      'FOO=from-dotenv',
      'FROMFILE=file',
      'X=1',
    ]);
  });
});

describe('booleans after interpolation', () => {
  const yaml = (v: string) =>
    `services:\n  a:\n    image: x\n    read_only: "${v}"\n    init: "\${INIT:-yes}"\n    tty: "False"\n    volumes: [{type: bind, source: /tmp/x, target: /x, read_only: "\${RO:-true}"}]\n`;

  it('are booleans, as Compose casts them (true/false/yes/no/on/off, any case)', async () => {
    const p = await load({}, { content: yaml('${RO:-true}'), project_name: 'b' });
    const s = serviceSpec(p, 'a', 1);
    expect([s.readOnly, s.init, s.tty]).toEqual([true, true, false]);
    expect(s.binds).toEqual(['/tmp/x:/x:ro']);
  });

  it('refuse a value that is no boolean, naming the key and not the value', async () => {
    const e = await load({}, { content: yaml('${RO}'), project_name: 'b', env: { RO: 'sometimes' } }).catch(
      (e: Error) => e,
    );
    expect(String(e)).toContain('<content>: services.a.read_only: must be a boolean');
    expect(String(e)).not.toContain('sometimes');
    await expect(
      load({}, { content: yaml('true'), project_name: 'b', env: { RO: 'x', INIT: 'maybe' } }),
    ).rejects.toThrow(/services\.a\.init: must be a boolean/);
  });
});

describe('integers after interpolation', () => {
  const yaml =
    'services:\n  a:\n    image: x\n    scale: "${N:-2}"\n    ulimits: {nofile: "${U:-10}", nproc: {soft: "${U:-10}", hard: 20}}\n';

  it('are numbers, as Compose casts them', async () => {
    const p = await load({}, { content: yaml, project_name: 'i' });
    expect(p.services.a?.scale).toBe(2);
    expect(p.services.a?.ulimits).toEqual({ nofile: { soft: 10, hard: 10 }, nproc: { soft: 10, hard: 20 } });
  });

  it('refuse a value that is no integer, naming the key and not the value', async () => {
    const e = await load({}, { content: yaml, project_name: 'i', env: { U: 'secretish' } }).catch(
      (e: Error) => e,
    );
    expect(String(e)).toContain('<content>: services.a.ulimits.nofile: must be an integer');
    expect(String(e)).not.toContain('secretish');
    await expect(load({}, { content: yaml.replace('${N:-2}', '${N}'), project_name: 'i' })).rejects.toThrow(
      'services.a.scale: must be an integer',
    );
  });

  it('refuse a negative scale', () => {
    expect(() => replicas({ scale: -1 }, 'a')).toThrow(
      'service "a": scale must be a whole number, 0 or more',
    );
    expect(() => replicas({ deploy: { replicas: -2 } }, 'a')).toThrow('deploy.replicas must be');
  });
});

describe('the !reset and !override tags', () => {
  const base =
    'services:\n  a:\n    image: x\n    ports: ["18730:80"]\n    environment: {A: "1", B: "2"}\n    labels: {l: "1"}\n';

  it('drop or replace what the files before said, as Compose v2 reads them', async () => {
    const files = {
      '/p/compose.yaml': base,
      '/p/compose.override.yaml':
        'services:\n  a:\n    ports: !reset []\n    environment: !override {C: "3"}\n    labels: {l: !reset null, m: "2"}\n',
    };
    const a = (await load(files, { project_dir: '/p' })).services.a;
    expect(a?.ports).toBeUndefined();
    expect(a?.environment).toEqual({ C: '3' });
    expect(a?.labels).toEqual({ m: '2' });
    const s = serviceSpec(await load(files, { project_dir: '/p' }), 'a', 1);
    expect(s.ports).toEqual([]);
  });

  it('apply to an extended service too', async () => {
    const yaml =
      'services:\n  base: {image: x, ports: ["1:1"], command: [a]}\n  a:\n    extends: base\n    ports: !override ["2:2"]\n';
    const a = (await load({}, { content: yaml, project_name: 't' })).services.a;
    expect(a?.ports).toEqual([{ target: 2, published: '2', protocol: 'tcp' }]);
  });

  it('are refused where they are not read, never ignored', async () => {
    await expect(
      load({}, { content: 'services:\n  a: {image: x}\nnetworks: !reset {}\n', project_name: 't' }),
    ).rejects.toThrow(/networks: !reset is read only on a service's keys/);
    await expect(
      load({}, { content: 'services:\n  a: {image: x, ports: [!reset "1:1"]}\n', project_name: 't' }),
    ).rejects.toThrow(/!reset is read only/);
  });
});

describe('merging several files', () => {
  it('overrides extra_hosts by host name, secrets by target, as Compose does', async () => {
    const files = {
      '/p/compose.yaml':
        'services:\n  a:\n    image: x\n    extra_hosts: ["a:127.0.0.1", "b:127.0.0.3"]\n    secrets: [s]\nsecrets:\n  s: {file: ./s}\n  t: {file: ./t}\n',
      '/p/compose.override.yaml':
        'services:\n  a:\n    extra_hosts: {a: 127.0.0.2}\n    secrets: [{source: t, target: s}]\n',
    };
    const p = await load(files, { project_dir: '/p' });
    expect(serviceSpec(p, 'a', 1).extraHosts).toEqual(['a:127.0.0.2', 'b:127.0.0.3']);
    expect(p.services.a?.secrets).toEqual([{ source: 't', target: 's' }]);
  });

  it("replaces logging for another driver whole, and merges one for the same driver's options", async () => {
    const files = (driver: string) => ({
      '/p/compose.yaml':
        'services:\n  a:\n    image: x\n    logging: {driver: json-file, options: {max-size: 1m}}\n',
      '/p/compose.override.yaml': `services:\n  a:\n    logging: {driver: ${driver}, options: {max-file: "3"}}\n`,
    });
    expect((await load(files('local'), { project_dir: '/p' })).services.a?.logging).toEqual({
      driver: 'local',
      options: { 'max-file': '3' },
    });
    expect((await load(files('json-file'), { project_dir: '/p' })).services.a?.logging).toEqual({
      driver: 'json-file',
      options: { 'max-size': '1m', 'max-file': '3' },
    });
  });
});

describe('pid and ipc of another service', () => {
  it("join its first container's namespace, after it is made, as network_mode: service: does", async () => {
    const yaml =
      'services:\n  y: {image: y, ipc: "service:x", pid: "service:x"}\n  x: {image: x, ipc: shareable}\n';
    const p = await load({}, { content: yaml, project_name: 'n' });
    const s = serviceSpec(p, 'y', 1);
    expect([s.ipcMode, s.pidMode]).toEqual(['container:n-x-1', 'container:n-x-1']);
    expect(serviceOrder(p)).toEqual(['x', 'y']);
    await expect(
      load({}, { content: 'services:\n  y: {image: y, pid: "service:nope"}\n', project_name: 'n' }),
    ).rejects.toThrow(/pid service:nope names no service/);
  });
});

describe('.env', () => {
  it('reads a quoted value over several lines, as Compose v2 does', () => {
    expect(parseEnvFile('A="line1\nline2\n  line3" # c\nB=2\nC=\'x\ny\'\nD="open\nE=5\n')).toEqual({
      A: 'line1\nline2\n  line3',
      B: '2',
      C: 'x\ny',
      D: '"open',
      E: '5',
    });
  });
});
