/**
 * Runs the matrix (`matrix.ts`) against the compiled binary on the real engine: makes the shared hostile
 * fixtures through the raw Engine API, starts one server per profile, fills in the placeholders, runs a
 * row's steps, snapshots the engine objects and host paths the row names before and after its call, and
 * checks the expectation. The snapshots themselves are in `snapshot.ts`.
 */
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { type ClientKind, type RunningServer, startServer } from '../helpers/client.ts';
import { TEST_IMAGE, testDocker, testLabels } from '../helpers/engine.ts';
import { killServer, serverPids } from '../helpers/process.ts';
import { type Args, FIXTURES, type Profile, type Step } from './matrix.ts';
import { ours, TOKEN } from './snapshot.ts';

const SOCKET = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');
/** Tools whose objects can carry the test label, so the runner's teardown finds what they made. */
const LABELLED = new Set([
  'docker_create_container',
  'docker_run_container',
  'docker_create_volume',
  'docker_build_image',
]);

export interface EnginePaths {
  dataRoot: string;
  execRoot: string;
  containerdSocket: string;
  dockerSocket: string;
}

/**
 * The engine's own directories as the engine reports them: the data root from /info; the exec root and
 * containerd socket from the command line of the dockerd serving DOCKER_HOST (the API does not report
 * them), else the defaults. Read here independently of the server's own code.
 */
export async function enginePaths(): Promise<EnginePaths> {
  const info = (await testDocker().info()) as { DockerRootDir: string };
  let execRoot = '/var/run/docker';
  let containerd: string | undefined;
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if ((argv[0] ?? '').split('/').pop() !== 'dockerd') continue;
    const flag = (name: string) => {
      const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
      if (i < 0) return undefined;
      const a = argv[i] as string;
      return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
    };
    const host = flag('--host') ?? flag('-H');
    if (host?.replace(/^unix:\/\//, '') !== SOCKET) continue;
    execRoot = flag('--exec-root') ?? execRoot;
    containerd = flag('--containerd')?.replace(/^unix:\/\//, '');
  }
  const supervised = `${execRoot}/containerd/containerd.sock`;
  return {
    dataRoot: info.DockerRootDir,
    execRoot,
    containerdSocket: containerd ?? (existsSync(supervised) ? supervised : '/run/containerd/containerd.sock'),
    dockerSocket: SOCKET,
  };
}

export interface World {
  tmp: string;
  proj: string;
  home: string;
  engine: EnginePaths;
  /** Fixture key → container name; also imageB (an image id) and tagA (a repository). */
  fx: Record<string, string>;
}

/** Makes this run's temp dirs and the shared hostile fixtures (raw API only). */
export async function makeWorld(): Promise<World> {
  const home = homedir();
  const world: World = {
    tmp: mkdtempSync(join(tmpdir(), `${TOKEN}-`)),
    proj: mkdtempSync(join(home, `${TOKEN}-`)),
    home,
    engine: await enginePaths(),
    fx: {},
  };
  for (const [key, spec] of Object.entries(FIXTURES)) {
    const name = `${TOKEN}-fx-${key.toLowerCase()}`;
    try {
      await rawContainer(world, name, {
        hostConfig: subst(spec.hostConfig, world, name) as Args,
        start: spec.start,
      });
    } catch (e) {
      // A sandboxed engine may lack capabilities a privileged container needs (CAP_SYS_RESOURCE): the
      // container stays created, and the rows against it still require the server's own refusal (the
      // engine would answer a different error).
      if (
        !(await testDocker()
          .getContainer(name)
          .inspect()
          .catch(() => undefined))
      )
        throw e;
      console.log(`[security] fixture ${key} could not start, kept created: ${(e as Error).message}`);
    }
    world.fx[key] = name;
  }
  // Two images: tagA names the test image; imageB is a commit of a container, so another id.
  const docker = testDocker();
  world.fx.tagA = `${TOKEN}-tag-a`;
  await docker.getImage(TEST_IMAGE).tag({ repo: world.fx.tagA, tag: 'latest' });
  const source = docker.getContainer(world.fx.plain as string);
  const committed = (await source.commit({
    repo: `${TOKEN}-img-b`,
    tag: 'latest',
    changes: 'LABEL mcpt.b=1',
  })) as { Id: string };
  world.fx.imageB = committed.Id;
  return world;
}

/** Removes everything this run made: containers, volumes, images, networks with the token; the temp dirs. */
export async function destroyWorld(world: World | undefined): Promise<void> {
  const docker = testDocker();
  const containers = await docker.listContainers({ all: true });
  for (const c of containers.filter((c) => ours(c.Names?.join(' ') ?? '')))
    await docker
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .catch(() => {});
  const { Volumes } = await docker.listVolumes();
  for (const v of (Volumes ?? []).filter((v) => ours(v.Name)))
    await docker
      .getVolume(v.Name)
      .remove({ force: true })
      .catch(() => {});
  // By ID: a network a failing server made may carry a name no path can hold.
  for (const n of (await docker.listNetworks()).filter((n) => ours(n.Name)))
    await docker
      .getNetwork(n.Id)
      .remove()
      .catch(() => {});
  for (const image of await docker.listImages())
    for (const tag of (image.RepoTags ?? []).filter((t) => t.includes(TOKEN)))
      await docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => {});
  if (world) {
    await docker
      .getImage(world.fx.imageB ?? 'none')
      .remove({ force: true })
      .catch(() => {});
    rmSync(world.tmp, { recursive: true, force: true });
    rmSync(world.proj, { recursive: true, force: true });
  }
}

/** Replaces the placeholders (see matrix.ts) in every string and key. */
export function subst(value: unknown, world: World, name: string): unknown {
  const one = (s: string) =>
    s.replace(/\{([a-zA-Z.]+)\}/g, (whole, key: string) => {
      if (key.startsWith('fx.')) return world.fx[key.slice(3)] ?? whole;
      const table: Record<string, string> = {
        name,
        tmp: world.tmp,
        proj: world.proj,
        home: world.home,
        image: TEST_IMAGE,
        ...world.engine,
      };
      return table[key] ?? whole;
    });
  if (typeof value === 'string') return one(value);
  if (Array.isArray(value)) return value.map((v) => subst(v, world, name));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [one(k), subst(v, world, name)]));
  return value;
}

/** The args a row sends: placeholders filled, the test label added where the tool takes labels. */
export function callArgs(tool: string, args: Args, world: World, name: string): Args {
  const out = subst(args, world, name) as Args;
  if (LABELLED.has(tool) && out.labels === undefined) out.labels = testLabels();
  return out;
}

async function rawContainer(
  world: World,
  name: string,
  opts: { hostConfig?: Args; cmd?: string[]; env?: string[]; start?: boolean; pause?: boolean },
): Promise<void> {
  const container = await testDocker().createContainer({
    name,
    Image: TEST_IMAGE,
    Cmd: opts.cmd ?? ['sleep', '3600'],
    Env: opts.env,
    Labels: testLabels(),
    HostConfig: { NetworkMode: 'none', ...opts.hostConfig },
  });
  if (opts.start) await container.start();
  if (opts.pause) await container.pause();
  void world;
}

/** Refuses to touch anything outside this run's own directories. */
function mine(world: World, path: string): string {
  if (!path.startsWith(`${world.tmp}/`) && !path.startsWith(`${world.proj}/`))
    throw new Error(`the suite only writes under its own temp dirs, not ${path}`);
  return path;
}

/** Runs a row's `before` steps; a call step must succeed. */
export async function runSteps(
  steps: Step[],
  world: World,
  name: string,
  server: () => Promise<RunningServer>,
) {
  for (const raw of steps) {
    const step = subst(raw, world, name) as Step;
    if ('mkdir' in step) mkdirSync(mine(world, step.mkdir), { recursive: true });
    else if ('write' in step) writeFileSync(mine(world, step.write), step.content);
    else if ('symlink' in step) {
      rmSync(mine(world, step.symlink), { recursive: true, force: true });
      symlinkSync(step.to, step.symlink);
    } else if ('fifo' in step) execFileSync('mkfifo', [mine(world, step.fifo)]);
    else if ('oddName' in step) {
      mine(world, `${step.oddName}/x`);
      // 'f', 0xff, 'x': no UTF-8 decoder accepts a lone 0xff.
      writeFileSync(Buffer.concat([Buffer.from(`${step.oddName}/`), Buffer.from([0x66, 0xff, 0x78])]), 'odd');
    } else if ('call' in step) {
      const result = await (await server()).client.callTool(
        step.call,
        callArgs(step.call, step.args, world, name),
      );
      if (result.isError) throw new Error(`step ${step.call} failed: ${JSON.stringify(result.content)}`);
    } else if ('container' in step) await rawContainer(world, step.container, step);
    else if ('volume' in step)
      await testDocker().createVolume({
        Name: step.volume,
        DriverOpts: step.driverOpts,
        Labels: testLabels(),
      });
  }
}

/** One server per profile and client kind, started on first use; `kill` ends one (frozen or not). */
export class Servers {
  private running = new Map<string, { server: RunningServer; pid?: number }>();

  constructor(private readonly world: () => World) {}

  async get(profile: Profile = 'default', client: ClientKind = 'v2'): Promise<RunningServer> {
    const key = `${profile}/${client}`;
    const have = this.running.get(key);
    if (have) return have.server;
    const before = new Set(serverPids());
    const server = await startServer({ client, ...this.options(profile) });
    const pid = serverPids().find((p) => !before.has(p));
    this.running.set(key, { server, pid });
    return server;
  }

  pid(profile: Profile = 'default', client: ClientKind = 'v2'): number | undefined {
    return this.running.get(`${profile}/${client}`)?.pid;
  }

  /** Closes one server; SIGKILL if it has not gone a second later (a frozen event loop ignores SIGTERM). */
  async drop(profile: Profile = 'default', client: ClientKind = 'v2'): Promise<void> {
    const key = `${profile}/${client}`;
    const entry = this.running.get(key);
    if (!entry) return;
    this.running.delete(key);
    await Promise.race([entry.server.close().catch(() => {}), Bun.sleep(1000)]);
    if (entry.pid !== undefined) killServer(entry.pid);
  }

  async closeAll(): Promise<void> {
    for (const key of [...this.running.keys()]) {
      const [profile, client] = key.split('/') as [Profile, ClientKind];
      await this.drop(profile, client);
    }
  }

  private options(profile: Profile): { env?: Record<string, string>; args?: string[] } {
    switch (profile) {
      case 'privileged':
        return { env: { SAFETY_ALLOW_PRIVILEGED_CONTAINERS: 'true' } };
      case 'destructive':
        return { env: { SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS: 'true' } };
      case 'engine-parent-allowed':
        // The engine's data root is sensitive even when an allowlist entry covers its parent.
        return { args: ['--mount-allowlist', `~,/tmp,${dirname(this.world().engine.dataRoot)}`] };
      default:
        return {};
    }
  }
}

/** The text a client reads from a result (all text blocks) plus structured content, for "does it show X". */
export function visibleText(result: CallToolResult): string {
  const text = result.content.map((b) => (b.type === 'text' ? b.text : '')).join('\n');
  return `${text}\n${JSON.stringify(result.structuredContent ?? {})}`;
}
