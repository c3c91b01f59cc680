/**
 * How a call's errors name the engine with several engines: engine names that read like secrets stay
 * readable (redaction runs before the prefix is added), and refusals by the server-wide settings,
 * made before an engine is chosen, name the engine the call would have used.
 */
import { describe, expect, it } from 'bun:test';
import Type from 'typebox';
import { ToolError } from '../../src/core/errors.ts';
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

const mounting = defineTool({
  name: 'docker_test_mount',
  title: 'Mount',
  description: 'd',
  safety: 'moderate',
  idempotent: false,
  input: Type.Object({ volumes: Type.Array(Type.String()) }),
  output: Type.Object({}, { additionalProperties: true }),
  handler: async () => ({ mounted: true }),
}) as AnyTool;

/** Throws what it is given: the error a handler on engine NAME would throw. */
const throwing = defineTool({
  name: 'docker_test_throw',
  title: 'Throw',
  description: 'd',
  safety: 'safe',
  idempotent: true,
  input: Type.Object({ message: Type.String() }),
  output: Type.Object({}),
  handler: async ({ message }) => {
    throw new ToolError('not_found', message, { hint: 'See what exists with docker_list_containers.' });
  },
}) as AnyTool;

describe('an engine named like a secret', () => {
  const named = engineRegistry(['default', 'secrets', 'private-eu', 'token', 'pw'].map((n) => fakeEngine(n)));

  it.each(['secrets', 'private-eu', 'token', 'pw'])(
    "keeps the error of engine '%s' readable",
    async (name) => {
      const out = await runPipeline(throwing, { message: 'No such container: web' }, env(named), {
        engine: name,
      });
      expect(!out.ok && out.error.message).toBe(`engine '${name}': No such container: web`);
    },
  );

  it('still masks a secret in the message after the prefix', async () => {
    const out = await runPipeline(throwing, { message: 'bad env PASSWORD=hunter2' }, env(named), {
      engine: 'secrets',
    });
    expect(!out.ok && out.error.message).toBe("engine 'secrets': bad env PASSWORD=***");
  });
});

describe('a refusal made before the engine is chosen (server-wide settings)', () => {
  const two = () => engineRegistry([fakeEngine('default'), fakeEngine('d1')]);

  it('names the engine the call named', async () => {
    const out = await runPipeline(mounting, { volumes: [] }, env(two(), profile({ readOnly: true })), {
      engine: 'd1',
    });
    expect(!out.ok && out.error.message).toBe(
      "engine 'd1': docker_test_mount changes state and the server is read-only.",
    );
  });

  it('names the default a read would use; a write naming none has no engine to name', async () => {
    const denied = profile({ deniedTools: ['docker_test_throw'], readOnly: true });
    const read = await runPipeline(throwing, { message: 'x' }, env(two(), denied));
    const write = await runPipeline(mounting, { volumes: [] }, env(two(), denied));
    expect(!read.ok && read.error.message).toBe(
      "engine 'default': docker_test_throw is denied by configuration.",
    );
    expect(!write.ok && write.error.message).toBe(
      'docker_test_mount changes state and the server is read-only.',
    );
  });

  it('names no engine the caller does not know', async () => {
    const out = await runPipeline(mounting, { volumes: [] }, env(two(), profile({ readOnly: true })), {
      engine: 'nope',
    });
    expect(!out.ok && out.error.message).toBe('docker_test_mount changes state and the server is read-only.');
  });
});
