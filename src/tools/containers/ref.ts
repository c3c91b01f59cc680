/** The state block lifecycle tools return. Resolving a reference is src/docker/resolve.ts's. */
import type Dockerode from 'dockerode';
import { shortId } from '../../docker/names.ts';

/** The state block lifecycle tools return, from an inspect document. */
export function stateOf(info: Dockerode.ContainerInspectInfo) {
  const s = info.State;
  return {
    id: shortId(info.Id),
    name: info.Name.replace(/^\//, ''),
    state: s.Status,
    ...(s.Status === 'exited' && { exit_code: s.ExitCode }),
    ...(s.Health?.Status && { health: s.Health.Status }),
  };
}
