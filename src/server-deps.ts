/**
 * What a server runs calls with, from the runtime settings: the engines, the server facts, the policy
 * outside calls and the catalogue's loaders. Loaded apart from main.ts: with one engine, stdio answers
 * initialize and tools/list before this (and the pipeline and the engine layer it imports) is loaded.
 */
import type { Runtime } from './config/runtime.ts';
import type { Toolset } from './core/toolsets.ts';
import { configuredEngines } from './docker/engines.ts';
import { setPolicyDefaults } from './docker/policy/scope.ts';
import type { Log } from './log.ts';
import { serverFacts } from './pipeline/run.ts';
import type { ServerDeps } from './tool-calls.ts';

export { EngineSettingsError } from './docker/engines.ts';

/**
 * The deps for `version` under `rt`. Throws EngineSettingsError for a configured engine that cannot be
 * set up (a Docker context that does not exist). Fixed here: no tool argument can point the server at
 * another address.
 */
export function serverDeps(rt: Runtime, version: string, log: Log): ServerDeps {
  const engines = configuredEngines(rt.engines, rt.engineSettings, {
    localSharesFilesystem: rt.sharesFilesystem,
  });
  const env = { ...rt.pipeline, engines, server: serverFacts(version, rt.pipeline.profile) };
  // The policy outside tool calls, and where its warnings go (a lifted refusal, an admitted sensitive path).
  setPolicyDefaults(rt.pipeline.policy, rt.pipeline.host, (m) => log.warn(m));
  // Loaded on first use: the tool modules are evaluated only for a call, a prompt or a resource.
  const catalogue = async () => (await import('./tools/index.ts')).catalogue;
  // Its data, computed at build time: tools/list does not load the tool modules either.
  const prelisted = async () => (await import('./catalogue-listing.ts')).STATIC_CATALOGUE;
  // A call loads only its tool's toolset, or only the part of it that holds the tool (tools/parts.ts).
  const toolset = async (name: Toolset, part?: string) => {
    const { PART_LOADERS, TOOLSET_LOADERS } = await import('./tools/by-toolset.ts');
    return ((part && PART_LOADERS[part]) || TOOLSET_LOADERS[name])();
  };
  return { catalogue, prelisted, toolset, env, version, ...rt.content };
}
