/** The state block lifecycle tools return. Resolving a reference is src/docker/resolve.ts's. */
import type Dockerode from 'dockerode';
import { lastExitCode, liveHealth, publishedPorts } from '../../docker/containers.ts';
import { shortId } from '../../docker/names.ts';

/**
 * The state block lifecycle tools return, from an inspect document: with the host ports a running
 * container is published on, so a port the engine picked is known without another call.
 */
export function stateOf(info: Dockerode.ContainerInspectInfo) {
  const s = info.State;
  const exitCode = lastExitCode(s);
  const health = liveHealth(s);
  const ports = s.Running ? publishedPorts(info) : [];
  return {
    id: shortId(info.Id),
    name: info.Name.replace(/^\//, ''),
    state: s.Status,
    ...(exitCode !== undefined && { exit_code: exitCode }),
    ...(health && { health }),
    ...(ports.length > 0 && { ports }),
  };
}
