/**
 * A container's newest exit from the engine's event log. A container its restart policy started
 * again runs with its exit code reset to 0: the die event is where the code of the crash survives.
 */
import type Dockerode from 'dockerode';
import { consume, engineStream, LineSplitter } from './streams.ts';

export interface LastExit {
  code: number;
  /** ISO time of the exit. */
  at: string;
}

/** The engine keeps recent events in memory; a read past a second or two would find nothing more. */
const READ_MS = 2000;

/**
 * The code and time of the container's newest die event since it was created, or undefined when the
 * engine holds none (its event buffer moved on) or did not answer in time. Never throws but on cancel.
 */
export async function lastExit(
  docker: Dockerode,
  info: Dockerode.ContainerInspectInfo,
  signal: AbortSignal,
): Promise<LastExit | undefined> {
  const read = AbortSignal.any([signal, AbortSignal.timeout(READ_MS)]);
  let last: LastExit | undefined;
  const lines = new LineSplitter((line) => {
    try {
      const e = JSON.parse(line) as {
        time?: number;
        timeNano?: number;
        Actor?: { Attributes?: Record<string, string> };
      };
      const code = Number(e.Actor?.Attributes?.exitCode);
      const ms = e.timeNano ? Math.floor(e.timeNano / 1e6) : (e.time ?? 0) * 1000;
      if (Number.isInteger(code)) last = { code, at: new Date(ms).toISOString() };
    } catch {
      // not an event: skip it
    }
  });
  try {
    const query = {
      since: Math.floor(Date.parse(info.Created) / 1000),
      // Now to the millisecond: a whole second ahead, the engine would hold the answer open until then.
      until: (Date.now() / 1000).toFixed(3),
      filters: JSON.stringify({ type: ['container'], container: [info.Id], event: ['die'] }),
    };
    const stream = await engineStream(docker, '/events', query, read);
    await consume(stream, (chunk) => void lines.push(chunk), read);
    lines.flush();
  } catch (e) {
    if (signal.aborted) throw e;
  }
  return last;
}
