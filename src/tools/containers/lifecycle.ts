/** Moving containers between states. Each returns the container's state afterwards. */
import Type from 'typebox';
import { defineTool } from '../define.ts';
import { ContainerRef } from '../params.ts';
import { inspectContainer, stateOf, withContainer } from './ref.ts';
import { ContainerState } from './rows.ts';

/** 304 Not Modified: already in the asked-for state — success, not an error. */
const ignoreNotModified = (e: unknown) => {
  if ((e as { statusCode?: number }).statusCode !== 304) throw e;
};

const StopTimeout = Type.Optional(
  Type.Integer({ minimum: 0, maximum: 3600, description: 'Seconds before SIGKILL (default 10)' }),
);

export const startContainer = defineTool({
  name: 'docker_start_container',
  title: 'Start container',
  description: 'Start a created or stopped container. Returns its state.',
  safety: 'moderate',
  idempotent: true,
  input: Type.Object({ container_id: ContainerRef }, { additionalProperties: false }),
  output: ContainerState,
  handler: async ({ container_id }, { docker, signal }) => {
    await withContainer(docker, container_id, signal, (c) => c.start({ abortSignal: signal })).catch(ignoreNotModified);
    return stateOf(await inspectContainer(docker, container_id, signal));
  },
});

export const stopContainer = defineTool({
  name: 'docker_stop_container',
  title: 'Stop container',
  description: 'Stop a running container: SIGTERM, then SIGKILL after timeout. Returns its state.',
  safety: 'moderate',
  idempotent: true,
  input: Type.Object({ container_id: ContainerRef, timeout: StopTimeout }, { additionalProperties: false }),
  output: ContainerState,
  timeoutArg: 'timeout',
  handler: async ({ container_id, timeout }, { docker, signal }) => {
    await withContainer(docker, container_id, signal, (c) =>
      c.stop({ ...(timeout !== undefined && { t: timeout }), abortSignal: signal }),
    ).catch(ignoreNotModified);
    return stateOf(await inspectContainer(docker, container_id, signal));
  },
});
