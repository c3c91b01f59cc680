/**
 * Loading a project for a call: every file the loader reads (the compose files, `.env`, `env_file`,
 * `extends.file`) passes the host-path rule at the moment it is read, and is read only if it is a
 * regular file of at most 4 MiB (readHostFile: a FIFO would hang the read, a huge file the loader).
 */
import type { EngineFacts } from '../../core/engine.ts';
import { readHostFile } from '../host-files.ts';
import { currentPolicy } from '../policy/scope.ts';
import type { Vars } from './interpolate.ts';
import { type LoadInput, loadProject, type Project } from './load.ts';

/** The most a project file (a Compose file, `.env`, an env file) may hold: far above any real one. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

export async function openProject(
  engine: { resolveFacts(signal?: AbortSignal): Promise<EngineFacts> },
  input: LoadInput,
  signal: AbortSignal,
  processEnv?: Vars,
): Promise<Project> {
  const read = async (path: string, what: string) =>
    (await readHostFile(engine, path, what, MAX_FILE_BYTES, signal))?.toString('utf8');
  return loadProject(input, { read, home: currentPolicy().host.home, processEnv });
}
