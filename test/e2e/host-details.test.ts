/**
 * The engine host's paths through the compiled binary, as a remote (HTTP) caller and a local one
 * read them: over HTTP the engine's data root, bind sources and compose file paths are '<hidden>'
 * wherever a tool, a prompt or an engine error would show them, as docker_system_info hides the data
 * root; over stdio everything is shown whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { errorOf, startServer, structured } from '../helpers/client.ts';
import { cleanupContainers, TEST_IMAGE, testDocker, testLabels, uniqueName } from '../helpers/engine.ts';
import { killSpawned, serveHttp, spawnBinary } from '../helpers/http-binary.ts';

const docker = testDocker();
const HIDDEN = '<hidden>';
const dir = mkdtempSync(join(tmpdir(), 'mcpt-hd-'));
const bind = join(dir, 'bind');
const composeFile = join(dir, 'proj', 'compose.yaml');
const volume = uniqueName('mcpt-hd-v');
const gone = uniqueName('mcpt-hd-gone');
const container = uniqueName('mcpt-hd-c');
const gelf = uniqueName('mcpt-hd-gelf');
const project = uniqueName('mcpt-hd-p');
let root = '';
let base = '';
const clients: Client[] = [];

/** A real client over Streamable HTTP with `token`. */
async function httpClient(token: string): Promise<Client> {
  const client = new Client({ name: 'mcpt-hd', version: '0' }, { versionNegotiation: { mode: 'auto' } });
  const fetchWith = (url: string | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    headers.set('authorization', `Bearer ${token}`);
    return fetch(url, { ...init, headers });
  };
  await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { fetch: fetchWith }));
  clients.push(client);
  return client;
}

async function tokenPair(): Promise<[string, string]> {
  const hashed = spawnBinary(['hash-token']);
  await hashed.proc.exited;
  await Bun.sleep(20);
  return [
    /token: (\S+)/.exec(hashed.stdout())?.[1] as string,
    /hash: +(\S+)/.exec(hashed.stdout())?.[1] as string,
  ];
}

let ro: Client;
let ops: Client;

beforeAll(async () => {
  root = (await docker.info()).DockerRootDir;
  mkdirSync(bind);
  mkdirSync(join(dir, 'proj'));
  writeFileSync(composeFile, 'services: {}\n');
  await docker.createVolume({ Name: volume, Labels: testLabels() });
  // A volume whose device is not there: mounting it fails, and the engine names both paths.
  await docker.createVolume({
    Name: gone,
    Labels: testLabels(),
    DriverOpts: { type: 'none', o: 'bind', device: join(dir, 'gone') },
  });
  // Never started: its mounts, log path and compose labels are there all the same.
  await docker.createContainer({
    name: container,
    Image: TEST_IMAGE,
    Cmd: ['true'],
    Labels: {
      ...testLabels(),
      'com.docker.compose.project': project,
      'com.docker.compose.service': 'web',
      'com.docker.compose.project.config_files': composeFile,
      'com.docker.compose.project.working_dir': join(dir, 'proj'),
    },
    HostConfig: { NetworkMode: 'none', Binds: [`${bind}:/data:ro`, `${volume}:/vol`] },
  });
  // Its log driver sends to a collector of the operator's (never started: nothing is sent).
  await docker.createContainer({
    name: gelf,
    Image: TEST_IMAGE,
    Cmd: ['true'],
    Labels: testLabels(),
    HostConfig: {
      NetworkMode: 'none',
      LogConfig: {
        Type: 'gelf',
        Config: { 'gelf-address': 'udp://logs.example.internal:47302', tag: 'web' },
      },
    },
  });
  const [roToken, roHash] = await tokenPair();
  const [opsToken, opsHash] = await tokenPair();
  writeFileSync(
    join(dir, 'auth.yaml'),
    `clients:\n  ro: { profile: read-only, tokens: ["${roHash}"] }\n  ops: { profile: full, tokens: ["${opsHash}"] }\n`,
  );
  ({ base } = await serveHttp(['--auth-file', join(dir, 'auth.yaml')]));
  ro = await httpClient(roToken);
  ops = await httpClient(opsToken);
}, 60_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  killSpawned();
  await cleanupContainers();
  for (const v of [volume, gone])
    await docker
      .getVolume(v)
      .remove()
      .catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

/** The result's JSON, with neither the data root nor the test's host directory in it. */
async function noHostPaths(client: Client, tool: string, args: Record<string, unknown>): Promise<string> {
  const text = JSON.stringify(structured(await client.callTool({ name: tool, arguments: args })));
  expect(text).not.toContain(root);
  expect(text).not.toContain(dir);
  return text;
}

describe('a remote caller reads no engine-host path', () => {
  it("docker_inspect_volume hides the volume's mountpoint, in both views", async () => {
    const compact = JSON.parse(await noHostPaths(ro, 'docker_inspect_volume', { volume_name: volume }));
    expect(compact).toMatchObject({ name: volume, mountpoint: HIDDEN });
    const full = JSON.parse(
      await noHostPaths(ro, 'docker_inspect_volume', { volume_name: volume, full: true }),
    );
    expect(full).toMatchObject({ Name: volume, Mountpoint: HIDDEN });
  });

  it('docker_inspect_container hides its engine files and bind sources, keeping targets and volume names', async () => {
    const compact = JSON.parse(
      await noHostPaths(ro, 'docker_inspect_container', { container_id: container }),
    );
    expect(compact.mounts.sort()).toEqual([`${HIDDEN}:/data:ro`, `${volume}:/vol`].sort());
    const full = JSON.parse(
      await noHostPaths(ro, 'docker_inspect_container', { container_id: container, full: true }),
    );
    expect(full.LogPath === '' || full.LogPath === HIDDEN).toBe(true);
    expect(full.HostConfig.Binds).toEqual([`${HIDDEN}:/data:ro`, `${volume}:/vol`]);
    for (const m of full.Mounts) expect(m.Source).toBe(HIDDEN);
    expect(full.Mounts.map((m: { Destination: string }) => m.Destination).sort()).toEqual(['/data', '/vol']);
  });

  it("docker_inspect_container full hides where its log driver sends logs, keeping the driver's other options", async () => {
    const full = structured(
      await ro.callTool({ name: 'docker_inspect_container', arguments: { container_id: gelf, full: true } }),
    ) as { HostConfig: { LogConfig: unknown } };
    expect(full.HostConfig.LogConfig).toEqual({
      Type: 'gelf',
      Config: { 'gelf-address': HIDDEN, tag: 'web' },
    });
  });

  it('docker_inspect_image, docker_list_containers and docker_system_df show no data-root path', async () => {
    await noHostPaths(ro, 'docker_inspect_image', { image: TEST_IMAGE, full: true });
    const listed = await noHostPaths(ro, 'docker_list_containers', {
      all: true,
      filters: { name: [container] },
      full: true,
    });
    expect(listed).toContain(HIDDEN);
    await noHostPaths(ro, 'docker_system_df', { verbose: true, full: true });
  });

  it("docker_compose_ls hides where each project's files are", async () => {
    const { projects } = JSON.parse(await noHostPaths(ro, 'docker_compose_ls', {})) as {
      projects: { name: string; config_files: string }[];
    };
    expect(projects.find((p) => p.name === project)?.config_files).toBe(HIDDEN);
  });

  it('docker_compose_config hides the files of secrets and configs, keeping that they are files', async () => {
    const proj = join(dir, 'proj');
    writeFileSync(join(proj, 'secret.txt'), 'x\n');
    writeFileSync(
      join(proj, 'secrets.yaml'),
      'services:\n  a: {image: x, secrets: [s1], configs: [c1]}\nsecrets:\n  s1: {file: ./secret.txt}\nconfigs:\n  c1: {file: ./secret.txt}\n',
    );
    const cfg = JSON.parse(
      await noHostPaths(ro, 'docker_compose_config', { project_dir: proj, files: ['secrets.yaml'] }),
    );
    expect(cfg.secrets).toEqual([{ name: 's1', from: `file ${HIDDEN}` }]);
    expect(cfg.configs).toEqual([{ name: 'c1', from: `file ${HIDDEN}` }]);
  });

  it('the prompts that list mounts show a bind source as hidden', async () => {
    for (const name of ['security_audit', 'troubleshoot_container', 'generate_compose']) {
      const key = name === 'generate_compose' ? 'container_ids' : 'container_id';
      const r = await ro.getPrompt({ name, arguments: { [key]: container } });
      const text = JSON.stringify(r.messages);
      expect(text).not.toContain(dir);
      expect(text).toContain(HIDDEN);
    }
  });

  it('an engine error that quotes host paths has them hidden, and a failed mount says to check the mounts', async () => {
    const e = errorOf(
      await ops.callTool({
        name: 'docker_run_container',
        arguments: {
          image: TEST_IMAGE,
          name: uniqueName('mcpt-hd-r'),
          network_mode: 'none',
          volumes: [`${gone}:/x`],
          command: ['true'],
          labels: testLabels(),
        },
      }),
    );
    expect(e.kind).toBe('invalid_argument');
    expect(e.message).toContain('mount');
    expect(e.message).toContain(HIDDEN);
    expect(e.message).not.toContain(root);
    expect(e.message).not.toContain(dir);
    expect(e.hint).toStartWith('Check the mounts');
  }, 30_000);
});

describe('a local (stdio) caller reads them whole', () => {
  it('docker_inspect_volume, docker_inspect_container and docker_compose_ls as before', async () => {
    const local = await startServer();
    try {
      const v = structured<{ mountpoint: string }>(
        await local.client.callTool('docker_inspect_volume', { volume_name: volume }),
      );
      expect(v.mountpoint).toStartWith(root);
      const c = structured<{ mounts: string[] }>(
        await local.client.callTool('docker_inspect_container', { container_id: container }),
      );
      expect(c.mounts).toContain(`${bind}:/data:ro`);
      const { projects } = structured<{ projects: { name: string; config_files: string }[] }>(
        await local.client.callTool('docker_compose_ls', {}),
      );
      expect(projects.find((p) => p.name === project)?.config_files).toBe(composeFile);
    } finally {
      await local.close();
    }
  }, 30_000);
});
