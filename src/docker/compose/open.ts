/**
 * Loading a project for a call: every file the loader reads (the compose files, `.env`, `env_file`,
 * `extends.file`) passes the host-path rule at the moment it is read, through hostFile.
 */
import { readFile } from 'node:fs/promises';
import type { EngineFacts } from '../../core/engine.ts';
import { ToolError } from '../../core/errors.ts';
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
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (code === 'EISDIR')
        throw new ToolError('invalid_argument', `${what} '${path}' is a directory, not a Compose file`, {
          hint: 'Name a file (compose.yaml), or pass the directory as project_dir.',
        });
      if (code === 'EACCES' || code === 'EPERM')
        throw new ToolError('invalid_argument', `${what} '${path}' cannot be read (permission denied)`, {
          hint: 'Make it readable by the user the server runs as.',
        });
      throw e;
    }
  };
  return loadProject(input, { read, home: currentPolicy().host.home, processEnv });
}
