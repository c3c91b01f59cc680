/** The Compose model on an in-memory file system: interpolation, merge, extends, profiles, syntaxes. */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Compose interpolation, not templates.
import { describe, expect, it } from 'bun:test';
import { interpolate, parseEnvFile } from '../../src/docker/compose/interpolate.ts';
import { checkContainerKeys } from '../../src/docker/compose/keys.ts';
import { type LoadInput, loadProject, normaliseProjectName } from '../../src/docker/compose/load.ts';
import { serviceOrder } from '../../src/docker/compose/project.ts';
import { stopLevels } from '../../src/docker/compose/running.ts';
import { configHash, serviceSpec } from '../../src/docker/compose/spec.ts';
import { createBody } from '../../src/docker/container-spec.ts';

const load = (files: Record<string, string>, input: LoadInput, processEnv?: Record<string, string>) =>
  loadProject(input, { read: async (p) => files[p], home: '/home/u', processEnv });

describe('interpolation', () => {
  const vars = { SET: 'v', EMPTY: '' };
  it.each([
    ['${SET}', 'v'],
    ['$SET/x', 'v/x'],
    ['${UNSET}', ''],
    ['${UNSET:-d}', 'd'],
    ['${EMPTY:-d}', 'd'],
    ['${EMPTY-d}', ''],
    ['${UNSET-d}', 'd'],
    ['${SET:-d}', 'v'],
    ['${SET:+alt}', 'alt'],
    ['${UNSET:-${SET}}', 'v'],
    ['$$SET', '$SET'],
    ['a$$b', 'a$b'],
    ['${EMPTY?e}', ''],
  ])('%s → %s', (text, want) => expect(interpolate(text, vars, 'f')).toBe(want));

  it('refuses a required variable, naming it and the place', () => {
    expect(() => interpolate('${UNSET:?needs a value}', vars, 'compose.yaml services.web.image')).toThrow(
      /compose.yaml services.web.image: required variable UNSET is missing a value: needs a value/,
    );
    expect(() => interpolate('${EMPTY:?x}', vars, 'f')).toThrow(/EMPTY/);
    expect(() => interpolate('${UNSET?x}', vars, 'f')).toThrow(/UNSET/);
    expect(() => interpolate('${SET', vars, 'f')).toThrow(/unclosed/);
  });

  it('reads .env files: comments, export, quotes, references', () => {
    expect(parseEnvFile('# c\nexport A=1\nB="two words"\nC=\'$A\'\nD=${A}x # note\nE\n')).toEqual({
      A: '1',
      B: 'two words',
      C: '$A',
      D: '1x',
    });
  });
});

describe('loading a project', () => {
  it('interpolates from env over the process environment over .env', async () => {
    const files = {
      '/p/compose.yaml': 'services:\n  web:\n    image: "${IMG}:${TAG:-latest}"\n    command: ${CMD}\n',
      '/p/.env': 'IMG=from-dotenv\nTAG=1\nCMD=sleep 1',
    };
    const a = await load(files, { project_dir: '/p' });
    expect(a.services.web?.image).toBe('from-dotenv:1');
    const b = await load(files, { project_dir: '/p', env: { IMG: 'from-env' } }, { IMG: 'proc', TAG: '2' });
    expect(b.services.web?.image).toBe('from-env:2');
    expect(b.name).toBe('p');
  });

  it('supports anchors and merge keys', async () => {
    const yaml = `x-base: &base\n  image: busybox\n  environment: { A: "1" }\nservices:\n  a:\n    <<: *base\n  b:\n    <<: *base\n    image: alpine\n`;
    const p = await load({}, { content: yaml, project_name: 'anchors' });
    expect(p.services.a).toMatchObject({ image: 'busybox', environment: { A: '1' } });
    expect(p.services.b?.image).toBe('alpine');
  });

  it('merges several files by the specification rules', async () => {
    const files = {
      '/p/a.yml':
        'services:\n  web:\n    image: a\n    command: [x, y]\n    ports: ["80"]\n    environment: [A=1, B=2]\n    volumes: [data:/data, ./src:/src]\n    labels: { l1: a }\n',
      '/p/b.yml':
        'services:\n  web:\n    image: b\n    command: z\n    ports: ["8080:81"]\n    environment: { B: "3" }\n    volumes: ["other:/data"]\n    labels: [l2=b]\n',
    };
    const p = await load(files, { project_dir: '/p', files: ['a.yml', 'b.yml'], project_name: 'm' });
    const w = p.services.web as Record<string, unknown>;
    expect(w.image).toBe('b');
    expect(w.command).toBe('z');
    expect(w.ports).toEqual([
      { target: 80, protocol: 'tcp' },
      { target: 81, published: '8080', protocol: 'tcp' },
    ]);
    expect(w.environment).toEqual({ A: '1', B: '3' });
    expect(w.labels).toEqual({ l1: 'a', l2: 'b' });
    expect(w.volumes).toEqual([
      { type: 'volume', source: 'other', target: '/data' },
      { type: 'bind', source: '/p/src', target: '/src' },
    ]);
    expect(p.configFiles).toEqual(['/p/a.yml', '/p/b.yml']);
  });

  it("takes the first file's directory as the project directory when project_dir is not given", async () => {
    const files = {
      '/q/app/c.yml': 'services:\n  a:\n    image: "${IMG}"\n    volumes: [./d:/d]\n',
      '/q/app/.env': 'IMG=from-dotenv',
    };
    const p = await load(files, { files: ['/q/app/c.yml'] });
    expect(p).toMatchObject({ name: 'app', workingDir: '/q/app' });
    expect(p.services.a).toMatchObject({
      image: 'from-dotenv',
      volumes: [{ type: 'bind', source: '/q/app/d', target: '/d' }],
    });
  });

  it('resolves extends in the same file and from another file, without inheriting depends_on', async () => {
    const files = {
      '/p/compose.yaml':
        'services:\n  base:\n    image: busybox\n    environment: [A=1]\n    depends_on: [db]\n  db:\n    image: db\n  web:\n    extends: base\n    environment: [B=2]\n  other:\n    extends: { file: common/c.yml, service: tmpl }\n',
      '/p/common/c.yml': 'services:\n  tmpl:\n    image: tmpl-image\n    user: "1000"\n',
    };
    const p = await load(files, { project_dir: '/p' });
    expect(p.services.web).toMatchObject({ image: 'busybox', environment: { A: '1', B: '2' } });
    expect(p.services.web?.depends_on).toBeUndefined();
    expect(p.services.other).toMatchObject({ image: 'tmpl-image', user: '1000' });
  });

  it('leaves out services of inactive profiles, unless asked for', async () => {
    const yaml = 'services:\n  a:\n    image: x\n  dbg:\n    image: y\n    profiles: [debug]\n';
    expect(Object.keys((await load({}, { content: yaml, project_name: 'p' })).services)).toEqual(['a']);
    expect(
      Object.keys((await load({}, { content: yaml, project_name: 'p', profiles: ['debug'] })).services),
    ).toEqual(['a', 'dbg']);
    expect(
      Object.keys((await load({}, { content: yaml, project_name: 'p', services: ['dbg'] })).services),
    ).toContain('dbg');
  });

  it('reads env_file under environment, relative to the project directory', async () => {
    const files = {
      '/p/compose.yaml':
        'services:\n  a:\n    image: x\n    env_file: [a.env, { path: missing.env, required: false }]\n    environment: { B: "own" }\n',
      '/p/a.env': 'A=1\nB=file',
    };
    expect((await load(files, { project_dir: '/p' })).services.a?.environment).toEqual({ A: '1', B: 'own' });
    await expect(
      load(
        { '/p/compose.yaml': 'services:\n  a:\n    image: x\n    env_file: nope.env\n' },
        { project_dir: '/p' },
      ),
    ).rejects.toThrow(/service "a": env_file: file not found: nope.env/);
  });

  it('names the file, service and key of an unsupported key', async () => {
    await expect(
      load({}, { content: 'services:\n  web:\n    image: x\n    bogus: 1\n', project_name: 'p' }),
    ).rejects.toThrow(
      /<content>: does not follow the Compose Specification: services\.web: unknown key "bogus"/,
    );
    await expect(load({}, { content: 'servces: {}\n', project_name: 'p' })).rejects.toThrow(
      /top level: unknown key "servces" — did you mean "services"\?/,
    );
    // In the specification but not mapped here: our own check says so, once.
    await expect(
      load({}, { content: 'services:\n  web:\n    image: x\n    cpuset: "0"\n', project_name: 'p' }),
    ).rejects.toThrow(/^<content>: service "web": key "cpuset" is not supported by this server$/);
    await expect(
      load({}, { content: 'services:\n  web:\n    ports: ["80"]\n', project_name: 'p' }),
    ).rejects.toThrow(/service "web" has neither image nor build/);
  });

  it('needs project_name for content and project_dir for relative paths in it', async () => {
    await expect(load({}, { content: 'services: {}' })).rejects.toThrow(/project_name/);
    await expect(
      load({}, { content: 'services:\n  a:\n    image: x\n    volumes: ["./d:/d"]\n', project_name: 'p' }),
    ).rejects.toThrow(/relative path "\.\/d" needs project_dir/);
  });

  it('names the file and key of a missing required variable, and stops an extends cycle', async () => {
    await expect(
      load({}, { content: 'services:\n  web:\n    image: ${IMAGE?set IMAGE}\n', project_name: 'p' }),
    ).rejects.toThrow(/<content>: services.web.image: required variable IMAGE is missing a value: set IMAGE/);
    await expect(
      load(
        {},
        {
          content: 'services:\n  a:\n    extends: b\n  b:\n    extends: a\n    image: x\n',
          project_name: 'p',
        },
      ),
    ).rejects.toThrow(/extends makes a cycle/);
  });

  it('takes the project name from project_name, else the top-level name:, else the directory', async () => {
    const files = { '/srv/My.App/compose.yaml': 'name: named_${SUFFIX:-x}\nservices:\n  a:\n    image: x\n' };
    expect((await load(files, { project_dir: '/srv/My.App' })).name).toBe('named_x');
    expect((await load(files, { project_dir: '/srv/My.App', project_name: 'given' })).name).toBe('given');
    const plain = { '/srv/My.App/compose.yaml': 'services:\n  a:\n    image: x\n' };
    expect((await load(plain, { project_dir: '/srv/My.App' })).name).toBe('myapp');
  });

  it('merges depends_on and networks as maps, and reads compose.override.yaml after compose.yaml', async () => {
    const files = {
      '/p/compose.yaml':
        'services:\n  a:\n    image: x\n    depends_on: [b]\n    networks: [n1]\n  b:\n    image: y\n',
      '/p/compose.override.yaml':
        'services:\n  a:\n    depends_on: { c: { condition: service_completed_successfully } }\n    networks: { n2: { aliases: [z] } }\n  c:\n    image: z\n',
    };
    const p = await load(files, { project_dir: '/p' });
    expect(p.services.a?.depends_on).toEqual({
      b: { condition: 'service_started', required: true },
      c: { condition: 'service_completed_successfully', required: true },
    });
    expect(p.services.a?.networks).toEqual({ n1: {}, n2: { aliases: ['z'] } });
    expect(p.configFiles).toEqual(['/p/compose.yaml', '/p/compose.override.yaml']);
  });

  it('refuses a dependency on an undefined service, pointing at a disabled profile', async () => {
    await expect(
      load(
        {},
        {
          content:
            'services:\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: y\n    profiles: [p]\n',
          project_name: 'p',
        },
      ),
    ).rejects.toThrow(/service "a" depends on undefined service "b"/);
  });

  it('normalises project names as Docker Compose does', () => {
    expect(normaliseProjectName('My Project.v2')).toBe('myprojectv2');
    expect(normaliseProjectName('__x-Y_1')).toBe('x-y_1');
    expect(normaliseProjectName('.-')).toBe('');
  });
});

describe('short and long syntaxes, as a ContainerSpec', () => {
  const yaml = `
services:
  web:
    image: busybox
    command: sh -c "sleep 1"
    entrypoint: [/bin/sh]
    ports: ["8080:80", "127.0.0.2:9000:90/udp", {target: 70, published: "7000", host_ip: 0.0.0.0}]
    volumes: ["data:/data:ro", "~/cfg:/cfg", {type: tmpfs, target: /t, tmpfs: {size: 1m}}]
    networks: { front: { aliases: [www] } }
    depends_on: { db: { condition: service_healthy } }
    healthcheck: { test: "true", interval: 1m30s, retries: 3, start_period: 500ms }
    environment: [A=1, B]
    restart: on-failure:3
    deploy: { resources: { limits: { memory: 64m, cpus: "0.5" } } }
    labels: [x=y]
    tmpfs: /run
    shm_size: 1g
    extra_hosts: ["h=1.2.3.4", "g:5.6.7.8"]
    dns: 1.1.1.1
    init: true
    stop_signal: SIGINT
    stop_grace_period: 1m
    user: "1000:1000"
    working_dir: /w
    ulimits: { nofile: { soft: 10, hard: 20 }, nproc: 5 }
    sysctls: [net.core.somaxconn=1024]
    logging: { driver: json-file, options: { max-size: 1m } }
  db:
    image: db
networks:
  front: {}
volumes:
  data: {}
`;
  it('refuses a CPU, memory or count value past what the engine reads, naming file, service and key', async () => {
    for (const [key, text] of [
      ['cpus', 'cpus: 1e300'],
      ['deploy.resources.limits.cpus', 'deploy: { resources: { limits: { cpus: "1e300" } } }'],
      ['mem_limit', 'mem_limit: 99999999999999g'],
      ['cpu_shares', 'cpu_shares: 1e300'],
      ['pids_limit', 'pids_limit: 1e300'],
      ['healthcheck.interval', 'healthcheck: { test: "true", interval: 5000h }'],
    ]) {
      const p = await load(
        {},
        { content: `services:\n  web:\n    image: x\n    ${text}\n`, project_name: 'p' },
      );
      let message = '';
      try {
        serviceSpec(p, 'web', 1);
      } catch (e) {
        message = (e as Error).message;
      }
      expect([key, message]).toEqual([key, expect.stringContaining(`service "web": ${key}: `)]);
    }
  });

  it('maps every key to its ContainerSpec field, with Compose v2 names and labels', async () => {
    const p = await load({}, { content: yaml, project_name: 'demo', project_dir: '/p' });
    const s = serviceSpec(p, 'web', 1);
    expect(s.name).toBe('demo-web-1');
    expect(s.command).toEqual(['sh', '-c', 'sleep 1']);
    expect(s.entrypoint).toEqual(['/bin/sh']);
    expect(s.ports).toEqual([
      { container: '80', protocol: 'tcp', hostIp: '127.0.0.1', hostPort: '8080' },
      { container: '90', protocol: 'udp', hostIp: '127.0.0.2', hostPort: '9000' },
      { container: '70', protocol: 'tcp', hostIp: '0.0.0.0', hostPort: '7000' },
    ]);
    expect(s.binds).toEqual(['/home/u/cfg:/cfg:rw']);
    expect(s.mounts).toEqual([
      { type: 'volume', source: 'demo_data', target: '/data', readOnly: true },
      { type: 'tmpfs', target: '/t', tmpfs: { sizeBytes: 1048576, mode: undefined } },
    ]);
    expect(s.networkMode).toBe('demo_front');
    expect(s.networks).toEqual({ demo_front: { aliases: ['web', 'www'] } });
    expect(s.healthcheck).toEqual({
      test: ['CMD-SHELL', 'true'],
      interval: 90e9,
      retries: 3,
      startPeriod: 5e8,
    });
    expect(s.env).toEqual(['A=1']); // B: unset in the environment, left out as Compose does
    expect(s.restart).toEqual({ policy: 'on-failure', maxRetries: 3 });
    expect(s.resources).toEqual({ memory: 64 * 1024 ** 2, nanoCpus: 5e8, shmSize: 1024 ** 3 });
    expect(s.tmpfs).toEqual({ '/run': '' });
    expect(s.extraHosts).toEqual(['h:1.2.3.4', 'g:5.6.7.8']);
    expect(s.dns).toEqual(['1.1.1.1']);
    expect(s).toMatchObject({
      init: true,
      stopSignal: 'SIGINT',
      stopTimeout: 60,
      user: '1000:1000',
      workingDir: '/w',
    });
    expect(s.ulimits).toEqual([
      { name: 'nofile', soft: 10, hard: 20 },
      { name: 'nproc', soft: 5, hard: 5 },
    ]);
    expect(s.sysctls).toEqual({ 'net.core.somaxconn': '1024' });
    expect(s.logging).toEqual({ driver: 'json-file', options: { 'max-size': '1m' } });
    expect(s.labels).toMatchObject({
      x: 'y',
      'com.docker.compose.project': 'demo',
      'com.docker.compose.service': 'web',
      'com.docker.compose.container-number': '1',
      'com.docker.compose.oneoff': 'False',
      'com.docker.compose.project.working_dir': '/p',
      'com.docker.compose.depends_on': 'db:service_healthy:false',
    });
    expect(serviceSpec(p, 'db', 1).networkMode).toBe('demo_default');
  });

  it('reads long volume syntax, port ranges and file-backed secrets', async () => {
    const yaml = `services:
  s:
    image: x
    ports: ["127.0.0.1:8000-8001:80-81/udp"]
    volumes: [{ type: bind, source: ./conf, target: /etc/conf/, read_only: true }, { type: volume, source: v, target: /v, volume: { nocopy: true } }]
    secrets: [pw, { source: cert, target: /certs/c.pem }]
secrets:
  pw: { file: ./pw.txt }
  cert: { file: /abs/cert.pem }
volumes:
  v: { name: shared-v }
`;
    const p = await load({}, { content: yaml, project_name: 'l', project_dir: '/p' });
    const s = serviceSpec(p, 's', 1);
    expect(s.ports).toEqual([
      { container: '80-81', protocol: 'udp', hostIp: '127.0.0.1', hostPort: '8000-8001' },
    ]);
    // A bind that may make its host directory goes as Binds, as Compose v2 sends it.
    expect(s.binds).toEqual(['/p/conf:/etc/conf:ro']);
    expect(s.mounts).toEqual([
      { type: 'volume', source: 'shared-v', target: '/v', volume: { noCopy: true } },
      { type: 'bind', source: '/p/pw.txt', target: '/run/secrets/pw', readOnly: true },
      { type: 'bind', source: '/abs/cert.pem', target: '/certs/c.pem', readOnly: true },
    ]);
  });

  it('reads a plain integer with a leading zero as octal, as Docker Compose does; quoted values stay strings', async () => {
    const yaml = `services:
  s:
    image: x
    user: "0755"
    working_dir: "0440"
    environment: { PLAIN: 0755, QUOTED: "0755", DECIMAL: 10 }
    secrets: [{ source: pw, mode: 0440 }]
    configs: [{ source: conf, target: /c, mode: 0o640 }, { source: conf, target: /d, mode: 420 }]
secrets:
  pw: { environment: PW }
configs:
  conf: { content: hi }
`;
    const p = await load({}, { content: yaml, project_name: 'o', project_dir: '/p' }, { PW: 'x' });
    const s = p.services.s as Record<string, unknown>;
    expect(s.user).toBe('0755');
    expect(s.working_dir).toBe('0440');
    expect(s.environment).toEqual({ PLAIN: '493', QUOTED: '0755', DECIMAL: '10' });
    expect(s.secrets).toEqual([{ source: 'pw', mode: 0o440 }]);
    expect((s.configs as { mode: number }[]).map((c) => c.mode)).toEqual([0o640, 420]);
  });

  it("joins another service's network namespace (network_mode: service:x), after it", async () => {
    const p = await load(
      {},
      {
        content: 'services:\n  vpn:\n    image: v\n  app:\n    image: a\n    network_mode: service:vpn\n',
        project_name: 'n',
      },
    );
    expect(serviceSpec(p, 'app', 1).networkMode).toBe('container:n-vpn-1');
    expect(serviceSpec(p, 'app', 1).networks).toBeUndefined();
    expect(serviceOrder(p)).toEqual(['vpn', 'app']);
    await expect(
      load(
        {},
        { content: 'services:\n  a:\n    image: a\n    network_mode: service:nope\n', project_name: 'n' },
      ),
    ).rejects.toThrow(/network_mode service:nope names no service/);
    await expect(
      load(
        {},
        {
          content: 'services:\n  a:\n    image: a\n    container_name: xy\n    scale: 2\n',
          project_name: 'n',
        },
      ),
    ).rejects.toThrow(/container_name and 2 replicas/);
  });

  it('applies deploy.restart_policy when restart is absent, and memswap_limit', async () => {
    const svc = (extra: string) => `services:\n  s:\n    image: x\n    memswap_limit: 1g\n${extra}`;
    const restartOf = async (extra: string) =>
      serviceSpec(await load({}, { content: svc(extra), project_name: 'r' }), 's', 1).restart;
    expect(
      await restartOf('    deploy: { restart_policy: { condition: on-failure, max_attempts: 3 } }\n'),
    ).toEqual({
      policy: 'on-failure',
      maxRetries: 3,
    });
    expect(await restartOf('    deploy: { restart_policy: { condition: none } }\n')).toEqual({
      policy: 'no',
    });
    expect(await restartOf('    deploy: { restart_policy: { max_attempts: 2 } }\n')).toEqual({
      policy: 'always',
    });
    expect(
      await restartOf('    restart: unless-stopped\n    deploy: { restart_policy: { condition: none } }\n'),
    ).toEqual({ policy: 'unless-stopped' });
    const p = await load({}, { content: svc(''), project_name: 'r' });
    expect(serviceSpec(p, 's', 1).resources).toEqual({ memorySwap: 1024 ** 3 });
  });

  it('links and volumes_from name the containers of other services, which start first', async () => {
    const content = `services:
  web:
    image: w
    links: [db, "cache:kv"]
    volumes_from: [data, "service:conf:ro", "container:other:rw"]
  legacy:
    image: l
    network_mode: bridge
    links: [db:database]
  db: { image: d, scale: 2 }
  cache: { image: c }
  data: { image: v }
  conf: { image: f }
`;
    const p = await load({}, { content, project_name: 'lk' });
    const web = serviceSpec(p, 'web', 1);
    expect(web.networks).toEqual({
      lk_default: { aliases: ['web'], links: ['lk-db-1:db', 'lk-db-2:db', 'lk-cache-1:kv'] },
    });
    expect(web.links).toBeUndefined();
    expect(web.volumesFrom).toEqual(['lk-data-1', 'lk-conf-1:ro', 'other:rw']);
    // On the default bridge (network_mode), they are the engine's legacy links.
    expect(serviceSpec(p, 'legacy', 1).links).toEqual(['lk-db-1:database', 'lk-db-2:database']);
    const order = serviceOrder(p);
    for (const dep of ['db', 'cache', 'data', 'conf'])
      expect(order.indexOf(dep)).toBeLessThan(order.indexOf('web'));
    await expect(
      load({}, { content: 'services:\n  a:\n    image: a\n    links: [nope]\n', project_name: 'n' }),
    ).rejects.toThrow(/service "a": links names undefined service "nope"/);
    await expect(
      load(
        {},
        {
          content: 'services:\n  a:\n    image: a\n    volumes_from: ["service:gone:ro"]\n',
          project_name: 'n',
        },
      ),
    ).rejects.toThrow(/service "a": volumes_from names undefined service "gone"/);
  });

  it('reads label_file under labels, relative to the project directory', async () => {
    const files = { '/p/a.labels': '# team\nteam=core\ntier=db\n', '/p/b.labels': 'tier=web\n' };
    const content =
      'services:\n  s:\n    image: x\n    label_file: [./a.labels, b.labels]\n    labels: { team: ops }\n';
    const p = await load(files, { content, project_name: 'l', project_dir: '/p' });
    expect(serviceSpec(p, 's', 1).labels).toMatchObject({ team: 'ops', tier: 'web' });
    expect(p.services.s?.label_file).toBeUndefined();
    await expect(
      load(
        {},
        {
          content: 'services:\n  s:\n    image: x\n    label_file: nope\n',
          project_name: 'l',
          project_dir: '/p',
        },
      ),
    ).rejects.toThrow(/service "s": label_file: file not found: nope/);
  });

  it('changes the config hash only when the service changes', async () => {
    const a = await load({}, { content: yaml, project_name: 'd', project_dir: '/p' });
    const b = await load({}, { content: yaml, project_name: 'd', project_dir: '/p' });
    const c = await load(
      {},
      { content: yaml.replace('SIGINT', 'SIGTERM'), project_name: 'd', project_dir: '/p' },
    );
    expect(configHash(a.services.web as object as Record<string, unknown>)).toBe(
      configHash(b.services.web as Record<string, unknown>),
    );
    expect(configHash(c.services.web as Record<string, unknown>)).not.toBe(
      configHash(a.services.web as Record<string, unknown>),
    );
    expect(configHash(c.services.db as Record<string, unknown>)).toBe(
      configHash(a.services.db as Record<string, unknown>),
    );
  });

  it('leaves out of the hash what Compose v2 leaves out: counts, depends_on, profiles, build, pull_policy', async () => {
    const hash = async (extra: string) =>
      configHash(
        (
          await load(
            {},
            { content: `services:\n  a:\n    image: x\n${extra}  b:\n    image: x\n`, project_name: 'h' },
          )
        ).services.a as Record<string, unknown>,
      );
    const plain = await hash('');
    for (const extra of [
      '    depends_on: [b]\n',
      '    profiles: ["*"]\n',
      '    scale: 2\n',
      '    deploy: { replicas: 2 }\n',
      '    pull_policy: never\n',
      '    build: { context: /ctx }\n',
    ])
      expect(await hash(extra)).toBe(plain);
    expect(await hash('    user: nobody\n')).not.toBe(plain);
  });
});

describe('start and stop order without the files', () => {
  it('follows the depends_on labels: dependencies a level before their dependents, for start', () => {
    const row = (service: string, n: number, deps = '') => ({
      Labels: {
        'com.docker.compose.service': service,
        'com.docker.compose.container-number': String(n),
        'com.docker.compose.depends_on': deps,
      },
    });
    const rows = [
      row('app', 1, 'db:service_healthy:false,cache:service_started:false'),
      row('cache', 1),
      row('db', 1),
      row('db', 2),
    ];
    expect(
      stopLevels(rows)
        .reverse()
        .map((level) =>
          level.map(
            (r) =>
              `${r.Labels['com.docker.compose.service']}-${r.Labels['com.docker.compose.container-number']}`,
          ),
        ),
    ).toEqual([['cache-1', 'db-1', 'db-2'], ['app-1']]);
  });
});

describe('port ranges and keys inside service keys', () => {
  const spec = async (service: string) =>
    serviceSpec(
      await load({}, { content: `services:\n  a:\n    image: x\n${service}`, project_name: 'p' }),
      'a',
      1,
    );

  it('publishes a container range on a host range port by port, and refuses what Compose refuses', async () => {
    const body = createBody(await spec('    ports: ["8000-8001:81-82", "9000-9010:90", "83-84/udp"]\n'));
    expect((body.HostConfig as Record<string, unknown>).PortBindings).toEqual({
      '81/tcp': [{ HostIp: '127.0.0.1', HostPort: '8000' }],
      '82/tcp': [{ HostIp: '127.0.0.1', HostPort: '8001' }],
      '90/tcp': [{ HostIp: '127.0.0.1', HostPort: '9000-9010' }],
      '83/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
      '84/udp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    });
    for (const [ports, why] of [
      ['8080:81-82', 'one host port "8080" cannot publish the container ports "81-82"'],
      ['1-2:3-5', 'host ports "1-2" and container ports "3-5" are ranges of different lengths'],
      ['70000:80', 'host port "70000" is not a port or range'],
      ['82-81', 'container port "82-81" is not a port or range'],
    ] as const)
      await expect(spec(`    ports: ["${ports}"]\n`)).rejects.toThrow(`service "a": ports: ${why}`);
  });

  it('exposes a port range port by port, and refuses one past 65535 or backwards before expanding it', async () => {
    const body = createBody(await spec('    expose: ["80", "90-91/udp"]\n'));
    expect(Object.keys(body.ExposedPorts as object)).toEqual(['80/tcp', '90/udp', '91/udp']);
    for (const e of ['1-99999999', '9000-8000', '0', 'x/tcp', '80/ip'])
      await expect(spec(`    expose: ["${e}"]\n`)).rejects.toThrow(
        `service "a": expose: "${e}" is not a port`,
      );
  });

  const check = async (service: string, api = '1.41') => {
    const p = await load({}, { content: `services:\n  a:\n    image: x\n${service}`, project_name: 'p' });
    checkContainerKeys(p, ['a'], api);
    return createBody(serviceSpec(p, 'a', 1)).HostConfig as Record<string, unknown>;
  };

  it('maps bind propagation, consistency, volume labels and a GPU request as Compose v2 sends them', async () => {
    const hc = await check(
      `    volumes: [{ type: bind, source: /srv, target: /s, consistency: cached, bind: { propagation: rslave } }]
    deploy: { resources: { reservations: { devices: [{ driver: nvidia, count: all, capabilities: [gpu] }] } } }
`,
    );
    expect(hc.Mounts).toEqual([
      {
        Type: 'bind',
        Source: '/srv',
        Target: '/s',
        Consistency: 'cached',
        BindOptions: { Propagation: 'rslave', CreateMountpoint: true },
      },
    ]);
    expect(hc.DeviceRequests).toEqual([{ Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] }]);
  });

  it('refuses a key inside a service key that is not mapped, naming its path', async () => {
    for (const [yaml, key] of [
      ['    build: { context: /b, network: host }\n', 'build.network'],
      ['    build: { context: /b, privileged: true }\n', 'build.privileged'],
      ['    networks: { default: { interface_name: eth9 } }\n', 'networks.default.interface_name'],
      ['    secrets: [{ source: s, uid: "1" }]\n', 'secrets[0].uid'],
      [
        '    volumes: [{ type: bind, source: /s, target: /s, bind: { recursive: disabled } }]\n',
        'volumes[0].bind.recursive',
      ],
    ] as const)
      await expect(check(yaml)).rejects.toThrow(`service "a": key "${key}" is not supported by this server`);
    await expect(
      check('    volumes: [{ type: bind, source: /s, target: /s, bind: { propagation: up } }]\n'),
    ).rejects.toThrow('volumes[0].bind.propagation: "up" is not a propagation mode');
  });

  it("refuses a project network's ipam options or another IPAM driver, naming the network", async () => {
    const net = (ipam: string) => check(`    networks: [n]\nnetworks:\n  n: { ipam: ${ipam} }\n`);
    await expect(net('{ options: { a: b } }')).rejects.toThrow(
      'networks "n": key "ipam.options" is not supported by this server',
    );
    await expect(net('{ driver: weave }')).rejects.toThrow(
      'networks "n": ipam.driver "weave" is not supported',
    );
    await expect(net('{ config: [{ subnet: 10.9.0.0/24 }] }')).resolves.toBeDefined();
  });

  it('maps a volume subpath from API 1.45 and refuses it before, naming the version', async () => {
    const yaml =
      '    volumes: [{ type: volume, source: d, target: /d, volume: { subpath: sub } }]\nvolumes: { d: {} }\n';
    await expect(check(yaml)).rejects.toThrow(
      'needs Engine API 1.45 (Docker 26), and this engine speaks 1.41',
    );
    expect((await check(yaml, '1.45')).Mounts).toEqual([
      { Type: 'volume', Source: 'p_d', Target: '/d', VolumeOptions: { NoCopy: false, Subpath: 'sub' } },
    ]);
  });
});

describe('down order without the files', () => {
  const row = (service: string, n: number, deps = '') => ({
    Labels: {
      'com.docker.compose.service': service,
      'com.docker.compose.container-number': String(n),
      'com.docker.compose.depends_on': deps,
    },
  });
  const names = (levels: ReturnType<typeof row>[][]) =>
    levels.map((l) =>
      l.map(
        (r) => `${r.Labels['com.docker.compose.service']}-${r.Labels['com.docker.compose.container-number']}`,
      ),
    );

  it('stops dependents first, each level together', () => {
    const rows = [
      row('db', 1),
      row('cache', 1),
      row('app', 1, 'db:service_healthy:false,cache:service_started:false'),
      row('app', 2, 'db:service_healthy:false,cache:service_started:false'),
      row('proxy', 1, 'app:service_started:false'),
      row('lone', 1),
    ];
    expect(names(stopLevels(rows))).toEqual([
      ['proxy-1', 'lone-1'],
      ['app-1', 'app-2'],
      ['db-1', 'cache-1'],
    ]);
  });

  it("takes the files' depends_on over the labels when the call gave them (Compose v1 writes none)", () => {
    const rows = [row('db', 1), row('web', 1), row('web', 2)];
    expect(names(stopLevels(rows))).toEqual([['db-1', 'web-1', 'web-2']]);
    expect(names(stopLevels(rows, { web: ['db'], db: [] }))).toEqual([['web-1', 'web-2'], ['db-1']]);
  });

  it('is not held back by a cycle or a dependency with no container', () => {
    const rows = [row('a', 1, 'b:service_started:false'), row('b', 1, 'a:service_started:false,gone::false')];
    expect(names(stopLevels(rows)).flat().sort()).toEqual(['a-1', 'b-1']);
  });
});

describe('how many containers a service asks for', () => {
  const content = (b: string) => `services:\n  a:\n    image: x\n    links: [b]\n  b:\n    image: x\n${b}`;

  it('refuses more than 1000, naming the service and the key, before building a container', async () => {
    for (const [b, key] of [
      ['    scale: 1001\n', 'scale 1001'],
      ['    deploy: { replicas: 5000000 }\n', 'deploy.replicas 5000000'],
    ] as const) {
      const p = await load({}, { content: content(b), project_name: 'p' });
      expect(() => serviceSpec(p, 'a', 1)).toThrow(`service "b": ${key} is over 1000`);
      expect(() => checkContainerKeys(p, ['a'], '1.41')).toThrow(`service "b": ${key} is over 1000`);
    }
  });

  it('links every container of the linked service, built once for all the containers of the linking one', async () => {
    const p = await load({}, { content: content('    scale: 3\n'), project_name: 'p' });
    const links = (n: number) => serviceSpec(p, 'a', n).networks?.p_default?.links;
    expect(links(1)).toEqual(['p-b-1:b', 'p-b-2:b', 'p-b-3:b']);
    expect(links(2)).toBe(links(1) as string[]);
  });
});

describe('named volumes and networks a service uses', () => {
  const check = async (service: string, top = '') =>
    checkContainerKeys(
      await load({}, { content: `services:\n  a:\n    image: x\n${service}${top}`, project_name: 'p' }),
      ['a'],
      '1.41',
    );

  it('are refused when the top level does not declare them, naming the service, the key and the fix', async () => {
    await expect(check('    volumes: ["typo-vol:/d"]\n')).rejects.toThrow(
      'service "a": volumes: volume "typo-vol" is not declared in the top-level volumes',
    );
    await expect(check('    volumes: [{ type: volume, source: v, target: /d }]\n')).rejects.toThrow(
      'volume "v" is not declared',
    );
    await expect(check('    networks: [typo-net]\n')).rejects.toThrow(
      'service "a": networks: network "typo-net" is not declared in the top-level networks',
    );
  });

  it('pass when declared, and the default network, anonymous volumes and binds need no declaration', async () => {
    await check(
      '    volumes: ["v:/d", "/anon", "/x:/x"]\n    networks: [n, default]\n',
      '\nvolumes: { v: {} }\nnetworks: { n: {} }\n',
    );
    await check('    volumes: ["/anon"]\n');
  });
});

describe('service_healthy on a dependency without a healthcheck', () => {
  it('is refused at once when the file turns the healthcheck off, naming both services', async () => {
    for (const h of ['{ disable: true }', '{ test: ["NONE"] }']) {
      const p = await load(
        {},
        {
          content: `services:\n  app:\n    image: x\n    depends_on: { dep: { condition: service_healthy } }\n  dep:\n    image: x\n    healthcheck: ${h}\n`,
          project_name: 'h',
        },
      );
      expect(() => checkContainerKeys(p, ['app', 'dep'], '1.41')).toThrow(
        'service "app": depends_on: "dep" (service_healthy) has its healthcheck disabled',
      );
    }
  });
});

describe('how many ports a service publishes', () => {
  it('is refused over 3 × 65535 in all, ranges counted port by port, naming the service', async () => {
    const ports = (n: number) => Array.from({ length: n }, (_, i) => `"${i + 1}-65535"`).join(', ');
    const check = async (n: number) =>
      checkContainerKeys(
        await load(
          {},
          { content: `services:\n  a:\n    image: x\n    ports: [${ports(n)}]\n`, project_name: 'p' },
        ),
        ['a'],
        '1.41',
      );
    await check(3);
    await expect(check(4)).rejects.toThrow('service "a": ports: 262134 ports in all, over 196605');
  });
});

describe('the size of a project as a whole', () => {
  const check = async (content: string) =>
    checkContainerKeys(await load({}, { content, project_name: 'p' }), [], '1.41');
  const services = (n: number, body: string) =>
    Array.from({ length: n }, (_, i) => `  s${i}: { image: x, network_mode: none, ${body} }`).join('\n');

  it('refuses more than 1000 containers across services, naming the keys', async () => {
    await check(`services:\n${services(2, 'scale: 500')}\n`);
    await expect(check(`services:\n${services(2, 'scale: 501')}\n`)).rejects.toThrow(
      'services: 1002 containers in all (scale / deploy.replicas of every service), over 1000',
    );
  });

  it('refuses one links list repeated on every service before any name is built', async () => {
    const names = Array.from({ length: 60 }, (_, i) => `s${i}`).join(', ');
    const content = `x-l: &L [${names}]\nservices:\n${services(60, 'scale: 16, links: *L')}\n`;
    const started = performance.now();
    await expect(check(content)).rejects.toThrow(/service "s\d+": links: \d+ links in all, over 100000/);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("counts every service's ports and every container's, not one service's", async () => {
    const p = '["127.0.0.1:1-65535:1-65535"]';
    await check(`services:\n${services(3, `ports: ${p}`)}\n`);
    await expect(check(`services:\n${services(4, `ports: ${p}`)}\n`)).rejects.toThrow(
      'service "s3": ports: 262140 ports in all, over 196605 for the project',
    );
    await expect(check(`services:\n${services(1, 'scale: 4, expose: ["1-65535"]')}\n`)).rejects.toThrow(
      'service "s0": expose: 262140 ports in all',
    );
  });
});
