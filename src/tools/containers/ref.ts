/** The state block lifecycle tools return. Resolving a reference is src/docker/resolve.ts's. */
import type Dockerode from 'dockerode';
import { lastExitCode, liveHealth } from '../../docker/containers.ts';
import { shortId } from '../../docker/names.ts';

/** The state block lifecycle tools return, from an inspect document. */
export function stateOf(info: Dockerode.ContainerInspectInfo) {
  const s = info.State;
  const exitCode = lastExitCode(s);
  const health = liveHealth(s);
  return {
    id: shortId(info.Id),
    name: info.Name.replace(/^\//, ''),
    state: s.Status,
    ...(exitCode !== undefined && { exit_code: exitCode }),
    ...(health && { health }),
  };
}
