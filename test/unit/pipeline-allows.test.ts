/**
 * A tool that declares `needsGate` gets `allows(name)`: the gate's own answer for another tool, on the
 * engine this call runs on, for this caller. Others get nothing.
 */
import { describe, expect, it } from 'bun:test';
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { type EngineCeiling, NO_CEILING } from '../../src/core/engine.ts';
import { type AnyTool, defineTool, type Safety, type ToolContext } from '../../src/core/tool.ts';
import { type EngineHandle, engineRegistry } from '../../src/docker/engines.ts';
import { runPipeline } from '../../src/pipeline/run.ts';
import { stubEngine, stubPipelineEnv, testProfile } from '../helpers/stub-engine.ts';

const engine = (name: string, ceiling: Partial<EngineCeiling> = {}) =>
  Object.assign(stubEngine(name, {} as Dockerode) as EngineHandle, {
    ceiling: { ...NO_CEILING, ...ceiling },
  });

const other = (name: string, safety: Safety): AnyTool =>
  defineTool({
    name,
    title: name,
    description: 'd',
    safety,
    idempotent: true,
    toolset: 'containers',
    input: Type.Object({}),
    output: Type.Object({}),
    handler: async () => ({}),
  }) as AnyTool;

const catalogue = [
  other('docker_read_x', 'safe'),
  other('docker_move_x', 'moderate'),
  other('docker_wipe_x', 'destructive'),
];
const names = ['docker_read_x', 'docker_move_x', 'docker_wipe_x', 'docker_unknown'];

const asking = (needsGate: boolean): AnyTool =>
  defineTool({
    name: 'docker_ask',
    title: 'ask',
    description: 'd',
    safety: 'safe',
    idempotent: true,
    toolset: 'system',
    needsGate,
    input: Type.Object({}),
    output: Type.Object({ allowed: Type.Array(Type.String()), given: Type.Boolean() }),
    handler: async (_args, { allows }: ToolContext) => ({
      allowed: names.filter((n) => allows?.(n)),
      given: allows !== undefined,
    }),
  }) as AnyTool;

async function ask(needsGate: boolean, profile = testProfile(), engines = [engine('default')], on?: string) {
  const env = stubPipelineEnv(profile, { engines: engineRegistry<EngineHandle>(engines) });
  const byName = new Map(catalogue.map((t) => [t.name, t]));
  const out = await runPipeline(asking(needsGate), on ? { engine: on } : {}, env, {
    tools: (n) => byName.get(n),
  });
  if (!out.ok) throw out.error;
  return out.data as { allowed: string[]; given: boolean };
}

describe('allows (needsGate)', () => {
  it('answers as the gate does for the caller: tiers, read-only, unknown tools', async () => {
    expect((await ask(true)).allowed).toEqual(['docker_read_x', 'docker_move_x']);
    expect((await ask(true, testProfile({ allowDestructive: true }))).allowed).toEqual([
      'docker_read_x',
      'docker_move_x',
      'docker_wipe_x',
    ]);
    expect((await ask(true, testProfile({ readOnly: true }))).allowed).toEqual(['docker_read_x']);
    expect((await ask(true, testProfile({ deniedTools: ['docker_move_x'] }))).allowed).toEqual([
      'docker_read_x',
    ]);
  });

  it("answers for the call's engine, with that engine's ceiling", async () => {
    const engines = [engine('a'), engine('ro', { readOnly: true })];
    const all = testProfile({ allowDestructive: true });
    expect((await ask(true, all, engines, 'a')).allowed).toHaveLength(3);
    expect((await ask(true, all, engines, 'ro')).allowed).toEqual(['docker_read_x']);
  });

  it('is given only to tools that declare needsGate', async () => {
    expect(await ask(false)).toEqual({ allowed: [], given: false });
  });
});
