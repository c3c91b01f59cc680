/**
 * Calling several engines, without an engine: the gate's per-engine ceilings and credential limits,
 * the `engine` argument added to the listing only when more than one engine is configured, and the
 * pipeline's refusals, result field and error prefix.
 */
import { describe, expect, it } from 'bun:test';
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { type EngineCeiling, NO_CEILING } from '../../src/core/engine.ts';
import { ToolError } from '../../src/core/errors.ts';
import { type AnyTool, defineTool, type Safety } from '../../src/core/tool.ts';
import { completeNames } from '../../src/docker/complete.ts';
import { type EngineHandle, engineRegistry } from '../../src/docker/engines.ts';
import { nameSharedOutputs } from '../../src/lean-schema.ts';
import { enginesAllowing, gate } from '../../src/pipeline/gate.ts';
import { runPipeline } from '../../src/pipeline/run.ts';
import { listTools } from '../../src/tool-calls.ts';
import { listedTool } from '../../src/tool-listing.ts';
import { catalogue } from '../../src/tools/index.ts';
import { auditFieldsOf, auditLine } from '../../src/transport/http/audit.ts';
import { resolveAuthFile } from '../../src/transport/http/credentials.ts';
import { stubEngine, stubPipelineEnv, testProfile } from '../helpers/stub-engine.ts';

/** A stand-in engine whose client names it, with `ceiling`; counts its connects. */
function engine(name: string, ceiling: Partial<EngineCeiling> = {}, failure?: Error) {
  const e = stubEngine(name, { engine: name } as unknown as Dockerode) as EngineHandle & { connects: number };
  e.connects = 0;
  return Object.assign(e, {
    ceiling: { ...NO_CEILING, ...ceiling },
    async client() {
      e.connects++;
      if (failure) throw failure;
      return { engine: name } as unknown as Dockerode;
    },
  });
}

const tool = (name: string, safety: Safety, extra: Partial<AnyTool> = {}): AnyTool =>
  defineTool({
    name,
    title: name,
    description: 'd',
    safety,
    idempotent: true,
    toolset: 'containers',
    input: Type.Object({ container_id: Type.Optional(Type.String()) }, { additionalProperties: false }),
    output: Type.Object({}, { additionalProperties: true }),
    handler: async (args: unknown, ctx) => {
      if ((args as { container_id?: string }).container_id === 'missing')
        throw new ToolError('not_found', "no container 'missing'", { subject: 'container' });
      return { ran_on: (ctx.engine.docker as unknown as { engine: string }).engine };
    },
    ...extra,
  }) as AnyTool;

const read = tool('docker_read_thing', 'safe');
const write = tool('docker_write_thing', 'moderate');
const wipe = tool('docker_wipe_thing', 'destructive');
const save = tool('docker_save_thing', 'moderate', { escalate: { container_id: 'destructive' } });

const three = () => {
  const a = engine('a');
  const ro = engine('ro', { readOnly: true });
  const safe = engine('safe', { allowDestructive: false });
  return { a, ro, safe, engines: engineRegistry<EngineHandle>([a, ro, safe]) };
};

describe('gate: per-engine ceilings', () => {
  const all = testProfile({ allowDestructive: true });

  it('refuses moderate and destructive on a read-only engine, naming the engine and the setting', () => {
    const { ro } = three();
    const d = gate(write, all, { engine: ro });
    expect(d).toEqual({
      allowed: false,
      reason: "docker_write_thing changes state and engine 'ro' is read-only",
      hint: "Use another engine; the operator allows it with readOnly: false for engine 'ro' (config file, engines.ro).",
    });
    expect(gate(wipe, all, { engine: ro }).allowed).toBe(false);
    expect(gate(read, all, { engine: ro }).allowed).toBe(true);
  });

  it('refuses destructive (also by escalation) where allowDestructive is false, and allows moderate there', () => {
    const { safe } = three();
    expect(gate(write, all, { engine: safe }).allowed).toBe(true);
    const d = gate(wipe, all, { engine: safe });
    expect(d.allowed || d.reason).toBe(
      "docker_wipe_thing is destructive and engine 'safe' does not allow destructive operations",
    );
    expect(d.allowed || d.hint).toContain('allowDestructive: true');
    const up = gate(save, all, { args: { container_id: 'x' }, engine: safe });
    expect(up.allowed || up.reason).toBe(
      "docker_save_thing with 'container_id' is destructive and engine 'safe' does not allow destructive operations",
    );
    expect(up.allowed || up.hint).toContain("or call without 'container_id'");
  });

  it('lets profiles only narrow: the server-wide refusal comes first on an engine with no ceiling', () => {
    const { a } = three();
    const d = gate(wipe, testProfile(), { engine: a });
    expect(d.allowed || d.reason).toBe(
      'docker_wipe_thing is destructive and destructive operations are disabled',
    );
    expect(gate(write, testProfile({ readOnly: true }), { engine: a }).allowed).toBe(false);
  });

  it("refuses an engine outside a credential's engines", () => {
    const { a, ro } = three();
    const p = testProfile({ engines: ['a'], origin: "profile 'x'" });
    expect(gate(read, p, { engine: a }).allowed).toBe(true);
    const d = gate(read, p, { engine: ro });
    expect(d.allowed || d.reason).toBe("engine 'ro' is not among the engines your credential allows");
  });

  it('lists a tool allowed on at least one engine, with those engines', () => {
    const { a, ro, safe } = three();
    const all3 = [a, ro, safe];
    const p = testProfile({ allowDestructive: true });
    expect(enginesAllowing(read, p, all3).map((e) => e.name)).toEqual(['a', 'ro', 'safe']);
    expect(enginesAllowing(write, p, all3).map((e) => e.name)).toEqual(['a', 'safe']);
    expect(enginesAllowing(wipe, p, all3).map((e) => e.name)).toEqual(['a']);
    expect(enginesAllowing(wipe, p, [ro, safe])).toEqual([]);
    expect(enginesAllowing(wipe, testProfile(), all3)).toEqual([]);
  });
});

describe('the listing', () => {
  const deps = (engines = engineRegistry([stubEngine()]), profile = testProfile()) => ({
    catalogue,
    env: stubPipelineEnv(profile, { engines }),
    version: '9.9.9',
  });

  it('is byte-identical with one engine: no engine argument, no engine result field', async () => {
    const p = testProfile();
    const { tools } = await listTools(deps(engineRegistry([stubEngine()]), p));
    const expected = nameSharedOutputs(catalogue.filter((t) => gate(t, p).allowed).map((t) => listedTool(t)));
    expect(JSON.stringify(tools)).toBe(JSON.stringify(expected));
    expect(JSON.stringify(tools)).not.toContain('"engine"');
  });

  it('adds the engine argument with several: an enum of the engines allowing the tool, required for writes', async () => {
    const { engines } = three();
    const { tools } = await listTools(deps(engines, testProfile({ allowDestructive: true })));
    const byName = new Map(tools.map((t) => [t.name, t]));
    const logs = byName.get('docker_container_logs');
    const stop = byName.get('docker_stop_container');
    const remove = byName.get('docker_remove_container');
    const prop = (t: typeof logs) =>
      (t?.inputSchema.properties as Record<string, Record<string, unknown>> | undefined)?.engine;
    expect(prop(logs)).toEqual({
      type: 'string',
      enum: ['a', 'ro', 'safe'],
      description: 'Engine to read (default: a).',
    });
    expect(logs?.inputSchema.required ?? []).not.toContain('engine');
    expect(prop(stop)?.enum).toEqual(['a', 'safe']);
    expect(stop?.inputSchema.required).toContain('engine');
    expect(prop(remove)?.enum).toEqual(['a']);
    // Lean output schemas say only "an object"; the full ones list the engine that answered.
    expect(logs?.outputSchema.properties).toBeUndefined();
    const full = await listTools({
      ...deps(engines, testProfile({ allowDestructive: true })),
      outputSchemas: 'full',
    });
    const fullLogs = full.tools.find((t) => t.name === 'docker_container_logs');
    expect((fullLogs?.outputSchema.properties as Record<string, unknown> | undefined)?.engine).toEqual({
      type: 'string',
      description: 'Engine that answered',
    });
    for (const t of tools) expect(prop(t)).toBeDefined();
  });

  it('shows a credential limited to one engine only that engine', async () => {
    const { engines } = three();
    const { tools } = await listTools(deps(engines, testProfile({ engines: ['a'] })));
    for (const t of tools)
      expect((t.inputSchema.properties as Record<string, { enum?: string[] }>).engine?.enum).toEqual(['a']);
  });
});

describe('the pipeline with several engines', () => {
  const env = (engines = three().engines, p = testProfile({ allowDestructive: true })) =>
    stubPipelineEnv(p, { engines });

  it('runs on the named engine and says which one answered', async () => {
    const { a, safe, engines } = three();
    const out = await runPipeline(read, { engine: 'safe' }, env(engines));
    expect(out).toEqual({ ok: true, data: { ran_on: 'safe', engine: 'safe' } });
    expect([a.connects, safe.connects]).toEqual([0, 1]);
  });

  it('reads on the default engine when none is named, and says so', async () => {
    const out = await runPipeline(read, {}, env());
    expect(out).toEqual({ ok: true, data: { ran_on: 'a', engine: 'a' } });
  });

  it('refuses a write (also an escalated one) that names no engine, listing the names', async () => {
    const { a, engines } = three();
    for (const [t, args] of [
      [write, {}],
      [save, { container_id: 'x' }],
    ] as const) {
      const out = await runPipeline(t, args, env(engines));
      expect(!out.ok && out.error).toMatchObject({
        kind: 'invalid_argument',
        message: `${t.name} changes state: name the engine it acts on`,
        hint: "Add the argument 'engine'. Use one of: a, ro, safe.",
      });
    }
    expect(a.connects).toBe(0);
  });

  it('refuses a write on a read-only engine and runs it on its neighbour', async () => {
    const { ro, engines } = three();
    const refused = await runPipeline(write, { engine: 'ro' }, env(engines));
    expect(!refused.ok && refused.error.kind).toBe('policy_denied');
    expect(!refused.ok && refused.error.message).toBe(
      "engine 'ro': docker_write_thing changes state and engine 'ro' is read-only.",
    );
    expect(ro.connects).toBe(0);
    const ran = await runPipeline(write, { engine: 'a' }, env(engines));
    expect(ran.ok && ran.data).toEqual({ ran_on: 'a', engine: 'a' });
  });

  it("starts an engine's errors with its name", async () => {
    const out = await runPipeline(read, { engine: 'safe', container_id: 'missing' }, env());
    expect(!out.ok && out.error.message).toBe("engine 'safe': no container 'missing'");
  });

  it("refuses an unknown engine, or one a credential may not use, listing only the caller's", async () => {
    const unknown = await runPipeline(read, { engine: 'nope' }, env());
    expect(!unknown.ok && unknown.error).toMatchObject({
      kind: 'invalid_argument',
      message: "no engine named 'nope'",
      hint: 'Use one of: a, ro, safe.',
    });
    const limited = env(three().engines, testProfile({ engines: ['ro'] }));
    const other = await runPipeline(read, { engine: 'a' }, limited);
    expect(!other.ok && other.error).toMatchObject({ kind: 'invalid_argument', hint: 'Use one of: ro.' });
    // A read without a name uses the caller's first engine when the default is not theirs.
    const mine = await runPipeline(read, {}, limited);
    expect(mine.ok && mine.data.engine).toBe('ro');
    const wrongType = await runPipeline(read, { engine: 3 }, env());
    expect(!wrongType.ok && wrongType.error.message).toBe("invalid argument 'engine': must be a string");
  });

  it('tells the observer (audit) the engine, with the engine argument out of the arguments', async () => {
    const seen: unknown[] = [];
    const e = { ...env(), observe: (c: unknown) => void seen.push(c) };
    await runPipeline(read, { engine: 'ro', container_id: 'web' }, e);
    await runPipeline(read, {}, e);
    expect(seen).toEqual([
      {
        event: 'tool_call',
        tool: 'docker_read_thing',
        safety: 'safe',
        args: { container_id: 'web' },
        engine: 'ro',
      },
      { event: 'tool_call', tool: 'docker_read_thing', safety: 'safe', args: {}, engine: 'a' },
    ]);
    const line = JSON.parse(auditLine({ ...auditFieldsOf(seen[0] as never), outcome: 'ok' }));
    expect(line.engine).toBe('ro');
  });
});

describe('one engine', () => {
  it('takes no engine argument: it is an unknown argument, and results carry no engine field', async () => {
    const env = stubPipelineEnv(testProfile(), { engines: engineRegistry([engine('default')]) });
    const out = await runPipeline(read, { engine: 'default' }, env);
    expect(!out.ok && out.error.message).toBe("unknown argument 'engine'; this tool takes: container_id");
    const ok = await runPipeline(read, {}, env);
    expect(ok).toEqual({ ok: true, data: { ran_on: 'default' } });
  });
});

describe('auth file engines', () => {
  const file = (engines: string[]) => ({
    profiles: { ops: { base: 'moderate', engines } },
    clients: { bot: { profile: 'ops' } },
  });

  it('limits a credential to its engines', () => {
    const auth = resolveAuthFile(file(['a']), testProfile(), ['a', 'b']);
    expect(auth.clients.get('bot')?.profile.engines).toEqual(['a']);
  });

  it('refuses engine names that are not configured, naming them', () => {
    expect(() => resolveAuthFile(file(['a', 'x', 'y']), testProfile(), ['a', 'b'])).toThrow(
      "profiles.ops.engines: unknown engines 'x', 'y'; configured: a, b",
    );
  });
});

describe('completeNames', () => {
  it('completes from a fixed list, case-insensitively, in order', () => {
    expect(completeNames(['prod', 'Staging', 'dev'], 's')).toEqual({
      values: ['Staging'],
      total: 1,
      hasMore: false,
    });
    expect(completeNames(['prod', 'dev'], '').values).toEqual(['prod', 'dev']);
  });
});
