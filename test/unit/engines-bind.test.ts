/**
 * The host-path rule across engines: a bind of another configured engine's socket or known
 * directories is refused on every engine, as the engine's own are.
 */
import { describe, expect, it } from 'bun:test';
import Type from 'typebox';
import { type AnyTool, defineTool } from '../../src/core/tool.ts';
import type { DiscoveryInput } from '../../src/docker/discovery.ts';
import { type EngineRegistry, engines } from '../../src/docker/engines.ts';
import type { SafetyProfile } from '../../src/pipeline/gate.ts';
import { type PipelineEnv, runPipeline } from '../../src/pipeline/run.ts';
import { stubPipelineEnv, testProfile } from '../helpers/stub-engine.ts';

const profile = (p: Partial<SafetyProfile> = {}): SafetyProfile =>
  testProfile({ allowDestructive: true, ...p });

const env = (registry: EngineRegistry, p = profile()): PipelineEnv =>
  stubPipelineEnv(p, { engines: registry });

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

describe('a bind mount of another engine', () => {
  const base: DiscoveryInput = {
    dockerConfigDir: '/nonexistent/.docker',
    tlsVerify: false,
    home: '/home/x',
    platform: 'linux',
  };
  const at = (name: string, url: string, more: { readOnly?: boolean; dataRoot?: string } = {}) => ({
    name,
    discovery: { ...base, endpoint: { url, source: 'test', exclusive: true } },
    ceiling: more.readOnly === undefined ? {} : { readOnly: more.readOnly },
    // A server on the engines' host, wherever the tests run (--shares-filesystem).
    facts: { localSharesFilesystem: true, ...(more.dataRoot && { dataRoot: more.dataRoot }) },
  });
  const registry = () =>
    engines([
      at('default', 'unix:///tmp/mcpt-engines/default.sock'),
      at('ro', 'unix:///tmp/mcpt-engines/ro.sock', {
        readOnly: true,
        dataRoot: '/tmp/mcpt-engines/ro-data',
      }),
      at('remote', 'tcp://127.0.0.1:1'),
    ]);

  it("refuses the read-only engine's socket on its writable neighbour, as it refuses its own", async () => {
    const r = registry();
    const other = await runPipeline(
      mounting,
      { volumes: ['/tmp/mcpt-engines/ro.sock:/var/run/docker.sock'] },
      env(r),
      {
        engine: 'default',
      },
    );
    const own = await runPipeline(
      mounting,
      { volumes: ['/tmp/mcpt-engines/default.sock:/var/run/docker.sock'] },
      env(r),
      { engine: 'default' },
    );

    expect(!other.ok && other.error).toMatchObject({
      kind: 'policy_denied',
      message:
        "engine 'default': volumes[0]: host path '/tmp/mcpt-engines/ro.sock' is refused: it exposes /tmp/mcpt-engines/ro.sock",
    });
    expect(!own.ok && own.error.message).toContain('it exposes /tmp/mcpt-engines/default.sock');
  });

  it("refuses a directory holding another engine's socket, and a local engine's data root it knows", async () => {
    const r = registry();
    const dir = await runPipeline(mounting, { volumes: ['/tmp/mcpt-engines:/x'] }, env(r), {
      engine: 'default',
    });
    const data = await runPipeline(mounting, { volumes: ['/tmp/mcpt-engines/ro-data/volumes:/x'] }, env(r), {
      engine: 'default',
    });

    expect(!dir.ok && dir.error.message).toContain('is refused: it contains /tmp/mcpt-engines/');
    expect(!data.ok && data.error.message).toContain('it exposes /tmp/mcpt-engines/ro-data');
  });

  it('lets other paths through to the engine (which is not running here)', async () => {
    const out = await runPipeline(mounting, { volumes: ['/tmp/mcpt-project:/x'] }, env(registry()), {
      engine: 'default',
    });
    expect(!out.ok && out.error.kind).toBe('engine_unreachable');
  });
});
