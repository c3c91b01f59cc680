/** Removing containers: one by reference, or every stopped one (prune). */
import type { ContainerInspectInfo } from 'dockerode';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { shortId } from '../../docker/names.ts';
import { inspectContainer } from '../../docker/resolve.ts';
import { sameAsAsked } from '../asked.ts';
import { ContainerRef, engineFilters, PruneFilters } from '../params.ts';
import {
  checkContainerPruneFilters,
  planOf,
  pruneCandidates,
  prunePreview,
  removePlanned,
  stoppedNames,
} from './prune.ts';
import { stateOf } from './ref.ts';

const short = (v: unknown) => (typeof v === 'string' ? shortId(v) : 'none');

/** The engine refuses to remove a live container without force: said before any question, and after. */
function refuseLive(
  info: ContainerInspectInfo,
  name: string,
  state: string,
  force: boolean | undefined,
): void {
  const { Running, Paused, Restarting } = info.State;
  if (!force && (Running || Paused || Restarting))
    throw new ToolError('conflict', `container '${name}' is ${state}, so it was not removed`, {
      hint: 'Stop it first with docker_stop_container, or pass force: true.',
    });
}

export const removeContainer = defineTool({
  name: 'docker_remove_container',
  title: 'Remove container',
  description: 'Remove a container.',
  safety: 'destructive',
  idempotent: true,
  input: Type.Object(
    {
      container_id: ContainerRef,
      force: Type.Optional(Type.Boolean()),
      volumes: Type.Optional(Type.Boolean({ description: 'And its anonymous volumes' })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({ id: Type.String(), name: Type.String(), removed: Type.Boolean() }),
  preview: async ({ container_id, force, volumes }, { engine: { docker }, signal }) => {
    const info = await inspectContainer(docker, container_id, signal);
    const { id, name, state } = stateOf(info);
    refuseLive(info, name, state, force);
    const how = [state, force && 'forced', volumes && 'with its anonymous volumes'].filter(Boolean);
    return {
      action: `remove container '${name}' (${id}; ${how.join('; ')})`,
      objects: [name],
      plan: { id: info.Id },
    };
  },
  handler: async ({ container_id, force, volumes }, { engine: { docker }, signal, confirmed }) => {
    const info = await inspectContainer(docker, container_id, signal);
    const { id, name, state } = stateOf(info);
    sameAsAsked(confirmed, 'id', info.Id, `container '${name}'`, short);
    refuseLive(info, name, state, force);
    await docker.getContainer(info.Id).remove({ force, v: volumes, abortSignal: signal });
    return { id, name, removed: true };
  },
});

export const pruneContainers = defineTool({
  name: 'docker_prune_containers',
  title: 'Prune containers',
  description: 'Remove all stopped containers, or those matching filters.',
  safety: 'destructive',
  idempotent: true,
  input: Type.Object(
    {
      filters: PruneFilters,
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    removed: Type.Array(Type.String()),
    count: Type.Integer(),
    space_reclaimed: Type.Integer({ description: 'Bytes' }),
    left: Type.Optional(
      Type.Array(Type.String(), { description: 'Stopped after the user was asked: not removed' }),
    ),
  }),
  narrowHint: 'Narrow with filters (until, label).',
  preview: async ({ filters }, { engine: { docker }, signal }) =>
    prunePreview(await pruneCandidates(docker, filters, signal)),
  handler: async ({ filters }, { engine: { docker }, signal, limits, confirmed }) => {
    checkContainerPruneFilters(filters);
    // Confirmed: exactly the containers the user was shown, not whatever stopped meanwhile.
    const plan = planOf(confirmed);
    if (plan) {
      const done = await removePlanned(docker, plan, filters, signal);
      return {
        removed: done.removed.slice(0, limits.maxListResults),
        count: done.removed.length,
        space_reclaimed: done.reclaimed,
        ...(done.left.length > 0 && { left: done.left.slice(0, limits.maxListResults) }),
      };
    }
    // The engine answers with ids; the names are read first, while the containers still exist.
    const names = await stoppedNames(docker, signal);
    const res = await docker.pruneContainers({ filters: engineFilters(filters), abortSignal: signal });
    const removed = (res.ContainersDeleted ?? []).map((id) => names.get(id) ?? shortId(id));
    return {
      removed: removed.slice(0, limits.maxListResults),
      count: removed.length,
      space_reclaimed: res.SpaceReclaimed ?? 0,
    };
  },
});
