/** `docker://containers`: every container as a compact row; watched through the engine's event stream. */
import { containerRow } from '../docker/containers.ts';
import { errorKind } from '../docker/errors.ts';
import { consume, engineStream } from '../docker/streams.ts';
import { defineResource, pause } from './define.ts';

/** Events that change a row of the list (not exec_*, attach, top…). */
const ROW_EVENTS = [
  'create',
  'start',
  'restart',
  'stop',
  'die',
  'kill',
  'pause',
  'unpause',
  'destroy',
  'rename',
  'update',
  'health_status',
];

export const containerList = defineResource({
  name: 'containers',
  uri: 'docker://containers',
  title: 'Containers',
  description:
    "All containers, one compact row each (id, name, image, state, status, ports), up to the server's list cap (total: how many there are when cut); subscribe for changes.",
  mimeType: 'application/json',
  async read(_vars, { engine: { docker }, signal, limits }) {
    // Every container, then cut at --max-list-results: `total` says how many there were when some were
    // cut, as docker_list_containers does (the engine's `limit` would hide it).
    const rows = await docker.listContainers({ all: true, abortSignal: signal });
    const containers = rows.slice(0, limits.maxListResults).map(containerRow);
    const total = rows.length > containers.length ? { total: rows.length } : {};
    return {
      mimeType: 'application/json',
      text: JSON.stringify({ containers, count: containers.length, ...total }),
    };
  },
  async watch(_vars, { engine, signal, changed }) {
    while (!signal.aborted) {
      try {
        const docker = await engine.client(signal);
        const filters = JSON.stringify({ type: ['container'], event: ROW_EVENTS });
        const stream = await engineStream(docker, '/events', { filters }, signal);
        await consume(stream, () => void changed(), signal);
      } catch (e) {
        if (signal.aborted) return;
        if (errorKind(e) === 'engine_unreachable') engine.invalidate();
      }
      await pause(2000, signal);
    }
  },
});
