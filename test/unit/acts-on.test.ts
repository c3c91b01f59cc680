/**
 * A call that also acts on another engine (a tool's `actsOn`, docker_swarm_join fetching the manager
 * engine's join token): that engine's ceiling and the caller's engines decide there too.
 */
import { describe, expect, it } from 'bun:test';
import Type from 'typebox';
import { type AnyTool, defineTool } from '../../src/core/tool.ts';
import { type EngineRegistry, engineRegistry } from '../../src/docker/engines.ts';
import type { SafetyProfile } from '../../src/pipeline/gate.ts';
import { type PipelineEnv, runPipeline } from '../../src/pipeline/run.ts';
import { namedEngine, stubPipelineEnv, testProfile } from '../helpers/stub-engine.ts';

const profile = (p: Partial<SafetyProfile> = {}): SafetyProfile =>
  testProfile({ allowDestructive: true, ...p });

const env = (registry: EngineRegistry, p = profile()): PipelineEnv =>
  stubPipelineEnv(p, { engines: registry });

const fakeEngine = namedEngine;

describe('a call that also acts on another engine (actsOn)', () => {
  const token = defineTool({
    name: 'docker_test_token',
    title: 'Token',
    description: 'd',
    safety: 'moderate',
    idempotent: true,
    escalate: { role: 'destructive' },
    input: Type.Object({ role: Type.Optional(Type.Enum(['manager'])) }),
    output: Type.Object({}),
    handler: async () => ({}),
  }) as AnyTool;
  let ran = 0;
  const join = defineTool({
    name: 'docker_test_join',
    title: 'Join',
    description: 'd',
    safety: 'moderate',
    idempotent: false,
    escalate: { role: 'destructive' },
    actsOn: { manager_engine: 'docker_test_token' },
    input: Type.Object({ manager_engine: Type.String(), role: Type.Optional(Type.Enum(['manager'])) }),
    output: Type.Object({}, { additionalProperties: true }),
    handler: async () => {
      ran++;
      return { joined: true };
    },
  }) as AnyTool;
  const tools = (n: string) => (n === token.name ? token : undefined);
  const registry = () =>
    engineRegistry([
      fakeEngine('w'),
      fakeEngine('prod', { readOnly: true }),
      fakeEngine('calm', { allowDestructive: false }),
      fakeEngine('open'),
    ]);
  const call = (args: Record<string, unknown>, p = profile()) =>
    runPipeline(join, args, env(registry(), p), { engine: 'w', tools });

  it('is refused when the other engine is read-only, naming it and its setting', async () => {
    ran = 0;
    const out = await call({ manager_engine: 'prod' });
    expect(!out.ok && out.error).toMatchObject({
      kind: 'policy_denied',
      message:
        "engine 'w': docker_test_join uses engine 'prod' (manager_engine) too, and docker_test_token changes state and engine 'prod' is read-only.",
    });
    expect(!out.ok && out.error.hint).toContain(
      "readOnly: false for engine 'prod' (config file, engines.prod)",
    );
    expect(ran).toBe(0);
  });

  it("is refused there at the tier its arguments raise it to ('role')", async () => {
    ran = 0;
    const worker = await call({ manager_engine: 'calm' });
    const manager = await call({ manager_engine: 'calm', role: 'manager' });
    expect(worker.ok).toBe(true);
    expect(!manager.ok && manager.error.message).toContain(
      "docker_test_token with 'role' is destructive and engine 'calm' does not allow destructive operations",
    );
    expect(ran).toBe(1);
  });

  it("raises the call's own tier: a manager join needs destructive operations allowed", async () => {
    const out = await call({ manager_engine: 'open', role: 'manager' }, profile({ allowDestructive: false }));
    expect(!out.ok && out.error.message).toBe(
      "engine 'w': docker_test_join with 'role' is destructive and destructive operations are disabled.",
    );
  });

  it('refuses an engine the caller may not use without naming the others', async () => {
    const out = await call({ manager_engine: 'prod' }, profile({ engines: ['w', 'open'] }));
    expect(!out.ok && out.error).toMatchObject({
      kind: 'invalid_argument',
      message: "engine 'w': invalid argument 'manager_engine': no engine named 'prod'",
      hint: 'Use one of: w, open (see docker_list_engines).',
    });
  });
});
