/** Waiting in `up` for a dependency's condition (started, healthy, completed), stopping when the call is aborted. */
import type Dockerode from 'dockerode';
import { ToolError } from '../../core/errors.ts';
import type { Project } from './load.ts';
import type { Obj } from './normalise.ts';
import type { UpOptions } from './project.ts';
import { projectContainers } from './running.ts';

/** Waits for each dependency's condition (started, healthy, completed successfully). */
export async function waitForDependencies(
  docker: Dockerode,
  p: Project,
  s: string,
  o: UpOptions,
  waiting: (dep: string, condition: string) => void,
): Promise<void> {
  const deps = (p.services[s]?.depends_on as Record<string, Obj> | undefined) ?? {};
  const deadline = Date.now() + (o.waitTimeout ?? 120) * 1000;
  for (const [dep, d] of Object.entries(deps)) {
    const cond = String(d.condition ?? 'service_started');
    if (cond === 'service_started' || !p.services[dep]) continue;
    waiting(dep, cond);
    for (;;) {
      o.signal.throwIfAborted();
      const cs = await projectContainers(docker, p.name, [dep], o.signal);
      const infos = await Promise.all(
        cs.map((c) => docker.getContainer(c.Id).inspect({ abortSignal: o.signal })),
      );
      const ok =
        infos.length > 0 &&
        infos.every((i) =>
          cond === 'service_healthy'
            ? i.State.Health?.Status === 'healthy'
            : !i.State.Running && i.State.ExitCode === 0 && i.State.Status === 'exited',
        );
      if (ok) break;
      const failed = infos.find((i) =>
        cond === 'service_healthy'
          ? i.State.Health?.Status === 'unhealthy'
          : !i.State.Running && i.State.ExitCode !== 0,
      );
      if (failed || Date.now() > deadline)
        throw new ToolError(
          failed ? 'conflict' : 'timeout',
          `service "${s}" waits for "${dep}" (${cond}), which ${failed ? 'failed' : 'did not get there in time'}`,
          { hint: `Read its logs (docker_compose_logs with services: ["${dep}"]).` },
        );
      await sleep(250, o.signal);
    }
  }
}

/** Waits `ms`, or less when the signal aborts (then throws its reason). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const done = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', done);
      resolve();
    }, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
