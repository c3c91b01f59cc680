/**
 * Loading a project for a call: every file the loader reads (the compose files, `.env`, `env_file`,
 * `extends.file`) passes the host-path rule at the moment it is read, through hostFile.
 */
import { readFile } from 'node:fs/promises';
import type { EngineFacts } from '../../core/engine.ts';
import { hostFile } from '../host-files.ts';
import { currentPolicy } from '../policy/scope.ts';
import type { Vars } from './interpolate.ts';
import { type LoadInput, loadProject, type Project } from './load.ts';

export async function openProject(
  engine: { resolveFacts(signal?: AbortSignal): Promise<EngineFacts> },
  input: LoadInput,
  signal: AbortSignal,
  processEnv?: Vars,
): Promise<Project> {
  const read = async (path: string, what: string) => {
    const real = await hostFile(engine, path, what, 'read', signal);
    try {
      return await readFile(real, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  };
  return loadProject(input, { read, home: currentPolicy().host.home, processEnv });
}
