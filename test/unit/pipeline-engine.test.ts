import { describe, expect, it } from 'bun:test';
import type Dockerode from 'dockerode';
import Type from 'typebox';
import type { Attempt, EngineInfo } from '../../src/core/engine.ts';
import { ToolError } from '../../src/core/errors.ts';
import { type AnyTool, defineTool, type ToolContext } from '../../src/core/tool.ts';
import type { SafetyProfile } from '../../src/pipeline/gate.ts';
import { type EngineHandle, type PipelineEnv, runPipeline, serverFacts } from '../../src/pipeline/run.ts';

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

/** An engine whose client() fails with `failure`, or answers with a stand-in client. */
function fakeEngine(failure?: unknown): EngineHandle & { connects: number } {
  return {
    connects: 0,
    async client() {
      this.connects++;
      if (failure) throw failure;
      return {} as Dockerode;
    },
    invalidate() {},
    info: (): EngineInfo | undefined => undefined,
    attempts: () => attempts,
    socketPaths: () => [],
  };
}

const env = (engine: EngineHandle, p = profile()): PipelineEnv => ({
  profile: p,
  policy: { allowPrivileged: false, mountAllowlist: [], mountBlocklist: [] },
  host: { home: '/home/x', platform: 'linux' },
  limits: { maxResponseBytes: 65_536, maxExecOutputBytes: 65_536, maxLogLines: 100, maxListResults: 100 },
  defaultTimeoutMs: 5000,
  engine,
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
