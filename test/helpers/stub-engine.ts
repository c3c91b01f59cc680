/** For pure unit tests of the pipeline: an engine that answers with a stand-in client and never talks to one. */
import type Dockerode from 'dockerode';
import type { EngineFacts } from '../../src/core/engine.ts';
import { type EngineHandle, type EngineRegistry, engineRegistry } from '../../src/docker/engines.ts';

export function stubEngine(name = 'default', client: Dockerode = {} as Dockerode): EngineHandle {
  const facts: EngineFacts = { sharesFilesystem: true, socketPaths: [] };
  return {
    name,
    client: async () => client,
    invalidate() {},
    info: () => undefined,
    attempts: () => [],
    facts,
    resolveFacts: async () => facts,
  };
}

/** A registry holding only `stubEngine()`. */
export const stubEngines = (): EngineRegistry => engineRegistry([stubEngine()]);
