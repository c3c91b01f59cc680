import { describe, expect, it } from 'bun:test';
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { type Attempt, type EngineFacts, type EngineInfo, NO_CEILING } from '../../src/core/engine.ts';
import { ToolError } from '../../src/core/errors.ts';
import { type AnyTool, defineTool, type ToolContext } from '../../src/core/tool.ts';
import { Engine } from '../../src/docker/engine.ts';
import { type EngineHandle, type EngineRegistry, engineRegistry } from '../../src/docker/engines.ts';
import type { SafetyProfile } from '../../src/pipeline/gate.ts';
import { type PipelineEnv, runPipeline, serverFacts } from '../../src/pipeline/run.ts';

const profile = (p: Partial<SafetyProfile> = {}): SafetyProfile => ({
  allowModerate: true,
  allowDestructive: false,
  readOnly: false,
  allowedTools: [],
  deniedTools: [],
  ...p,
});

const attempts: Attempt[] = [
  { url: 'unix:///nowhere.sock', source: 'DOCKER_HOST', outcome: 'no socket there' },
];

/**
 * An engine whose client() fails with `failure`, or answers with its own stand-in client; its facts
 * name it, so a test can tell which engine's session a handler got.
 */
function fakeEngine(
  failure?: unknown,
  name = 'default',
): EngineHandle & { connects: number; invalidated: number; docker: Dockerode } {
  const facts: EngineFacts = { sharesFilesystem: true, socketPaths: [`/tmp/engines/${name}.sock`] };
  const docker = { engine: name } as unknown as Dockerode;
  return {
    name,
    docker,
    connects: 0,
    invalidated: 0,
    async client() {
      this.connects++;
      if (failure) throw failure;
      return docker;
    },
    requests(signal) {
      return this.client(signal);
    },
    invalidate() {
      this.invalidated++;
    },
    info: (): EngineInfo | undefined => ({
      url: `unix:///tmp/engines/${name}.sock`,
      source: 'test',
      apiVersion: name === 'default' ? '1.47' : '1.41',
      serverVersion: '27.0.0',
      os: 'linux',
      arch: 'amd64',
    }),
    attempts: () => attempts,
    facts,
    resolveFacts: async () => facts,
    ceiling: NO_CEILING,
  };
}

const env = (engine: EngineHandle | EngineRegistry, p = profile()): PipelineEnv => ({
  profile: p,
  policy: { allowPrivileged: false, mountAllowlist: [], mountBlocklist: [] },
  host: { home: '/home/x', platform: 'linux' },
  limits: { maxResponseBytes: 65_536, maxExecOutputBytes: 65_536, maxLogLines: 100, maxListResults: 100 },
  defaultTimeoutMs: 5000,
  engines: 'resolve' in engine ? engine : engineRegistry([engine]),
  server: serverFacts('9.9.9', p),
  logFilter: 'flag',
  dockerConfigDir: '/nonexistent/.docker',
});

const noEngine = () =>
  new ToolError('engine_unreachable', 'no Docker engine answered. Tried: unix:///nowhere.sock', {
    hint: 'Start Docker.',
  });

/** A tool that reports what its handler was given. */
const probe = (engine?: 'optional') =>
  defineTool({
    name: 'docker_probe_engine',
    title: 'Probe',
    description: 'd',
    safety: 'safe',
    idempotent: true,
    ...(engine && { engine }),
    input: Type.Object({}),
    output: Type.Object({}, { additionalProperties: true }),
    handler: async (_args, ctx: ToolContext<'optional'>) => ({
      hasDocker: ctx.engine.docker !== undefined,
      unreachable: ctx.unreachable?.kind,
      hint: ctx.unreachable?.hint,
      tried: ctx.engine.attempts().length,
      version: ctx.server.version,
      mode: ctx.server.safetyMode.summary,
    }),
  }) as AnyTool;

/** The tool with a handler that only notes it ran. */
function recording(tool: AnyTool) {
  let ran = false;
  const handler = async () => {
    ran = true;
    return {};
  };
  return { tool: { ...tool, handler } as AnyTool, ran: () => ran };
}

describe("tools declared engine: 'requests'", () => {
  it("get the connection's request transport, and the full client is never made", async () => {
    const transport = { modem: { kind: 'request transport' } };
    let clients = 0;
    const base = fakeEngine();
    const handle: EngineHandle = {
      ...base,
      client: async () => {
        clients++;
        return base.docker;
      },
      requests: async () => transport,
    };
    const tool = defineTool({
      name: 'docker_probe_requests',
      title: 'Probe',
      description: 'd',
      safety: 'safe',
      idempotent: true,
      engine: 'requests',
      input: Type.Object({}),
      output: Type.Object({}, { additionalProperties: true }),
      handler: async (_args, ctx) => ({ transport: ctx.engine.docker === transport }),
    }) as AnyTool;

    expect(await runPipeline(tool, {}, env(handle))).toEqual({ ok: true, data: { transport: true } });
    expect(clients).toBe(0);
  });
});

describe("tools declared engine: 'optional'", () => {
  it('run without an engine, told why and what was tried', async () => {
    const out = await runPipeline(probe('optional'), {}, env(fakeEngine(noEngine())));

    expect(out).toEqual({
      ok: true,
      data: {
        hasDocker: false,
        unreachable: 'engine_unreachable',
        hint: 'Start Docker.',
        tried: 1,
        version: '9.9.9',
        mode: 'default: safe+moderate',
      },
    });
  });

  it('treat a connection-level failure from the client as no engine', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

    const out = await runPipeline(probe('optional'), {}, env(fakeEngine(refused)));

    expect(out.ok && out.data.unreachable).toBe('engine_unreachable');
  });

  it('get the client when the engine answers', async () => {
    const out = await runPipeline(probe('optional'), {}, env(fakeEngine()));

    expect(out.ok && out.data).toMatchObject({ hasDocker: true, unreachable: undefined });
  });

  it('still end the call on a cancel while connecting, without running the handler', async () => {
    const cancel = new AbortController();
    const { tool, ran } = recording(probe('optional'));
    const engine = fakeEngine();
    engine.client = async () => {
      cancel.abort();
      await Bun.sleep(1);
      throw new Error('aborted');
    };

    const out = await runPipeline(tool, {}, env(engine), { signal: cancel.signal });

    expect(out.ok).toBe(false);
    expect(!out.ok && out.error.kind).toBe('cancelled');
    expect(ran()).toBe(false);
  });
});

describe('tools that need the engine (the default)', () => {
  it('fail with engine_unreachable before the handler runs', async () => {
    const { tool, ran } = recording(probe());

    const out = await runPipeline(tool, {}, env(fakeEngine(noEngine())));

    expect(!out.ok && out.error.kind).toBe('engine_unreachable');
    expect(ran()).toBe(false);
  });
});

describe('a call cancelled before the handler first awaits', () => {
  it('ends cancelled, and the handler failing afterwards is not an unhandled rejection', async () => {
    const cancel = new AbortController();
    const tool = {
      ...probe(),
      handler: async (_args: unknown, ctx: ToolContext) => {
        ctx.progress(1, 2, 'first'); // the client cancels on the first notification
        throw ctx.signal.reason;
      },
    } as AnyTool;

    const out = await runPipeline(tool, {}, env(fakeEngine()), {
      signal: cancel.signal,
      sendProgress: () => cancel.abort(),
    });
    await Bun.sleep(5); // an unhandled rejection would surface (and fail the test) by now

    expect(!out.ok && out.error.kind).toBe('cancelled');
  });
});

/** A tool that reports which engine's session its handler got; `volumes` lets the policy look. */
const whichEngine = defineTool({
  name: 'docker_which_engine',
  title: 'Which engine',
  description: 'd',
  safety: 'safe',
  idempotent: true,
  input: Type.Object({ volumes: Type.Optional(Type.Array(Type.String())) }),
  output: Type.Object({}, { additionalProperties: true }),
  handler: async (_args, { engine }) => ({
    name: engine.name,
    client: (engine.docker as unknown as { engine: string }).engine,
    apiVersion: engine.apiVersion,
    socketPaths: engine.facts.socketPaths,
    dataRoot: (await engine.resolveFacts()).dataRoot,
  }),
}) as AnyTool;

describe('a server with two engines', () => {
  const two = () => {
    const other = fakeEngine(undefined, 'other');
    const main = fakeEngine(undefined, 'default');
    // 'other' is listed first: the default is the one named so, not the first.
    return { other, main, engines: engineRegistry([other, main]) };
  };

  it("hands the handler the default engine's session when the call names none", async () => {
    const { other, main, engines } = two();

    const out = await runPipeline(whichEngine, {}, env(engines));

    expect(out).toEqual({
      ok: true,
      data: {
        name: 'default',
        client: 'default',
        apiVersion: '1.47',
        socketPaths: ['/tmp/engines/default.sock'],
        dataRoot: undefined,
        // With several engines the result says which one answered.
        engine: 'default',
      },
    });
    expect([main.connects, other.connects]).toEqual([1, 0]);
  });

  it("hands the handler the named engine's session, and only that engine is asked", async () => {
    const { other, main, engines } = two();

    const out = await runPipeline(whichEngine, {}, env(engines), { engine: 'other' });

    expect(out.ok && out.data).toMatchObject({
      name: 'other',
      client: 'other',
      apiVersion: '1.41',
      socketPaths: ['/tmp/engines/other.sock'],
    });
    expect([main.connects, other.connects]).toEqual([0, 1]);
  });

  it("checks a bind mount against the socket paths of the call's engine", async () => {
    const { engines } = two();
    const mount = { volumes: ['/tmp/engines/other.sock:/var/run/docker.sock'] };
    // A bind mount is checked on calls that change state (the safe tier has only host paths checked).
    const mounting = { ...whichEngine, name: 'docker_mount_on_engine', safety: 'moderate' } as AnyTool;

    const onOther = await runPipeline(mounting, mount, env(engines), { engine: 'other' });
    const onDefault = await runPipeline(mounting, mount, env(engines), { engine: 'default' });

    expect(!onOther.ok && onOther.error.kind).toBe('policy_denied');
    expect(onDefault.ok && onDefault.data.name).toBe('default');
  });

  it('refuses an engine it does not know, naming the known ones, before any engine is asked', async () => {
    const { other, main, engines } = two();

    const out = await runPipeline(whichEngine, {}, env(engines), { engine: 'nope' });

    expect(!out.ok && out.error).toMatchObject({
      kind: 'invalid_argument',
      message: "no engine named 'nope'",
      hint: 'Use one of: other, default.',
    });
    expect([main.connects, other.connects]).toEqual([0, 0]);
  });

  it('keeps working on one engine while another is down, and forgets only the one that failed', async () => {
    const down = new Engine(
      {
        dockerHost: 'unix:///nonexistent/mcpt-down.sock',
        dockerConfigDir: '/nonexistent/.docker',
        tlsVerify: false,
        home: '/nonexistent',
        platform: 'linux',
      },
      { name: 'down' },
    );
    const main = fakeEngine(undefined, 'default');
    const engines = engineRegistry<EngineHandle>([main, down]);

    const failed = await runPipeline(whichEngine, {}, env(engines), { engine: 'down' });
    const worked = await runPipeline(whichEngine, {}, env(engines));

    expect(!failed.ok && failed.error.kind).toBe('engine_unreachable');
    expect(!failed.ok && failed.error.message).toContain('mcpt-down.sock');
    expect(worked.ok && worked.data.name).toBe('default');
    expect(main.invalidated).toBe(0);
  });
});

describe('engineRegistry', () => {
  it("defaults to the engine named 'default', else the first listed", () => {
    const a = fakeEngine(undefined, 'a');
    const b = fakeEngine(undefined, 'b');

    expect(engineRegistry([a, fakeEngine(undefined, 'default')]).defaultName).toBe('default');
    expect(engineRegistry([b, a]).resolve()).toBe(b);
    expect(engineRegistry([b, a]).resolve('a')).toBe(a);
    expect(engineRegistry([b, a]).names()).toEqual(['b', 'a']);
  });

  it('refuses a name configured twice, and an empty list', () => {
    expect(() => engineRegistry([fakeEngine(), fakeEngine()])).toThrow(
      "engine 'default' is configured twice",
    );
    expect(() => engineRegistry([])).toThrow('no engine configured');
  });
});

describe('serverFacts', () => {
  it('names the safety mode as the gate applies it', () => {
    const mode = (p: Partial<SafetyProfile>) => serverFacts('1', profile(p)).safetyMode;

    expect(mode({})).toMatchObject({ summary: 'default: safe+moderate', tiers: ['safe', 'moderate'] });
    expect(mode({ allowDestructive: true })).toMatchObject({
      summary: 'all tiers',
      tiers: ['safe', 'moderate', 'destructive'],
    });
    expect(mode({ allowDestructive: true, readOnly: true })).toMatchObject({
      summary: 'read-only',
      tiers: ['safe'],
    });
    expect(mode({ allowModerate: false })).toMatchObject({ summary: 'read-only' });
    expect(mode({ allowModerate: false, allowDestructive: true }).summary).toBe('safe+destructive');
    expect(mode({ allowedTools: ['docker_version'], deniedTools: ['docker_events'] })).toMatchObject({
      allowedTools: ['docker_version'],
      deniedTools: ['docker_events'],
    });
  });
});
