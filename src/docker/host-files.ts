/**
 * The one way to a file or directory on the server's own host (a build context, an image tar to save
 * or load; later Compose files): the host-path rule of the call's policy, applied to the path as it
 * resolves now on this filesystem. Returns the resolved path, so what is opened is what was checked.
 */
import type { EngineFacts } from '../core/engine.ts';
import { checkHostPath } from './policy/paths.ts';
import { currentPolicy, pathPolicyOf } from './policy/scope.ts';

/** What the path is for: read (a tar to load), write (a tar to save), a build context directory. */
export type HostFileUse = 'read' | 'write' | 'context';

/**
 * Checks `raw` (the argument named `arg`) against the host-path rule and returns its real path.
 * The engine's directories (its data root, exec root, sockets) count as sensitive here too.
 */
export async function hostFile(
  engine: { resolveFacts(signal?: AbortSignal): Promise<EngineFacts> },
  raw: string,
  arg: string,
  _use: HostFileUse,
  signal?: AbortSignal,
): Promise<string> {
  const scope = currentPolicy();
  // Sensitive paths need the engine's facts; a server without an engine still has its own rules.
  const facts = await engine.resolveFacts(signal).catch(() => undefined);
  return checkHostPath(raw, arg, pathPolicyOf(scope, { ...facts, sharesFilesystem: true }));
}
