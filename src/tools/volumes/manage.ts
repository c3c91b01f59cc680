/** Creating, removing and pruning volumes. */
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { apiAtLeast } from '../../docker/engine.ts';
import { findVolume } from '../../docker/resolve.ts';
import { sameAsAsked } from '../asked.ts';
import { DriverName, engineFilters, FilterMap, StringMap } from '../params.ts';
import { checkVolumePruneFilters, removePlannedVolumes, volumePreview, volumeSizes } from './prune.ts';
import { containersUsing, VOLUME_NAME, VolumeRef, VolumeSummary, volumeSummary } from './ref.ts';

export const createVolume = defineTool({
  name: 'docker_create_volume',
  title: 'Create volume',
  description: 'Create a volume (a generated name if none).',
  safety: 'moderate',
  idempotent: false,
  input: Type.Object(
    {
      name: Type.Optional(
        Type.String({
          pattern: VOLUME_NAME,
          maxLength: 255,
          expects: 'a name of two or more letters, digits and _ . - (first a letter or digit)',
        }),
      ),
      driver: DriverName('Default local'),
      driver_opts: StringMap('e.g. {"type":"tmpfs"}'),
      labels: StringMap(),
    },
    { additionalProperties: false },
  ),
  output: VolumeSummary,
  // As docker_inspect_volume hides them.
  hostDetails: ['mountpoint', 'options'],
  handler: async ({ name, driver, driver_opts, labels }, { engine: { docker }, signal }) => {
    // The engine answers "created" with the existing volume, whatever options were asked for.
    if (name && (await findVolume(docker, name, signal)))
      throw new ToolError('conflict', `volume '${name}' already exists`, {
        hint: 'Use it as it is (docker_inspect_volume), or pick another name.',
      });
    const created = await docker.createVolume({
      Name: name,
      Driver: driver,
      DriverOpts: driver_opts,
      Labels: labels,
      abortSignal: signal,
    });
    // dockerode resolves to a Volume handle; its name is the one the engine chose.
    const info = await findVolume(docker, created.name, signal);
    if (!info)
      throw new ToolError('internal', `volume '${created.name}' vanished right after it was created`);
    return volumeSummary(info);
  },
});

/**
 * Where the files of a local volume that only mounts something else live, when removing it leaves
 * them: a bind of a host directory (`o=bind`), or a network share (`type=nfs`, `cifs`). The path or
 * address is not named: the question may go to a caller on another host.
 */
function keptElsewhere(v: { Driver?: string; Options?: Record<string, string> | null }) {
  if (v.Driver !== 'local' || !v.Options) return undefined;
  const o = (v.Options.o ?? '').split(',').map((x) => x.trim());
  if (o.includes('bind') || o.includes('rbind')) return 'it binds a host directory';
  const type = (v.Options.type ?? '').toLowerCase();
  if (['nfs', 'nfs4', 'cifs', 'smb3'].includes(type)) return `it mounts a ${type} share`;
  return undefined;
}

/** When a volume was made (its identity beside its name); null when there is none. */
const createdOf = (v: object | undefined): string | null =>
  v ? String((v as { CreatedAt?: string }).CreatedAt ?? '') : null;

export const removeVolume = defineTool({
  name: 'docker_remove_volume',
  title: 'Remove volume',
  description: 'Remove a volume no container uses.',
  safety: 'destructive',
  idempotent: true,
  input: Type.Object(
    {
      volume_name: VolumeRef,
      force: Type.Optional(Type.Boolean({ description: 'No error if missing' })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({ name: Type.String(), removed: Type.Boolean() }),
  preview: async ({ volume_name }, { engine: { docker }, signal }) => {
    const found = await findVolume(docker, volume_name, signal);
    // A volume is known by its name; one made again under it is told apart by when it was made.
    const plan = { created: createdOf(found) };
    if (!found)
      return { action: `remove volume '${volume_name}' (it does not exist now)`, objects: [], plan };
    // A volume in use cannot go, force or not: say so before asking rather than after. The person
    // weighs the data by its size (the engine's disk usage; left out when it cannot say).
    const [, sizes] = await Promise.all([
      refuseInUse(docker, volume_name, signal),
      volumeSizes(docker, signal),
    ]);
    const kept = keptElsewhere(found);
    // A bind's or a share's size is the directory's, and none of it is freed: not shown as reclaimed.
    const size = kept ? undefined : sizes?.get(volume_name);
    return {
      action: kept
        ? `remove volume '${volume_name}' (${kept}: the files there are not deleted)`
        : `remove volume '${volume_name}' and all the data in it`,
      objects: [volume_name],
      plan,
      ...(size !== undefined && { reclaims: size }),
    };
  },
  handler: async ({ volume_name, force }, { engine: { docker }, signal, confirmed }) => {
    const found = await findVolume(docker, volume_name, signal);
    sameAsAsked(confirmed, 'created', createdOf(found), `volume '${volume_name}'`, (v) =>
      v === null ? 'absent' : `made ${v}`,
    );
    if (!found) {
      if (force) return { name: volume_name, removed: false };
      throw new ToolError('not_found', `volume '${volume_name}' not found`, {
        hint: 'List them with docker_list_volumes, or pass force: true to ignore a missing volume.',
      });
    }
    await refuseInUse(docker, volume_name, signal);
    await docker.getVolume(volume_name).remove({ force, abortSignal: signal });
    return { name: volume_name, removed: true };
  },
});

/** The engine refuses a volume in use even with force, naming only container IDs; name them instead. */
async function refuseInUse(docker: Dockerode, volume: string, signal: AbortSignal): Promise<void> {
  const users = await containersUsing(docker, volume, signal);
  if (users.length > 0)
    throw new ToolError(
      'conflict',
      `volume '${volume}' is in use by ${users.length} container(s): ${users
        .slice(0, 10)
        .map((n) => `'${n}'`)
        .join(', ')}`,
      { hint: 'Remove those containers first (docker_remove_container); force does not override this.' },
    );
}

/** From Engine API 1.42 a prune spares named volumes unless filtered with all=true. */
const spareNamedByDefault = (apiVersion: string | undefined) => apiAtLeast(apiVersion ?? '0', '1.42');

export const pruneVolumes = defineTool({
  name: 'docker_prune_volumes',
  title: 'Prune volumes',
  description: 'Remove unused anonymous volumes.',
  safety: 'destructive',
  idempotent: true,
  input: Type.Object(
    {
      all: Type.Optional(Type.Boolean({ description: 'Named volumes too' })),
      filters: FilterMap('e.g. {"label":["env=dev"]}'),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    removed: Type.Array(Type.String()),
    count: Type.Integer(),
    space_reclaimed: Type.Integer({ description: 'Bytes' }),
    left: Type.Optional(
      Type.Array(Type.String(), { description: 'Unused after the user was asked: not removed' }),
    ),
  }),
  narrowHint: 'Narrow with filters (label).',
  preview: async ({ all, filters }, { engine, signal }) => {
    const { named, rest } = pruneScope(all, filters, engine.apiVersion);
    return volumePreview(engine.docker, rest, named, signal);
  },
  handler: async ({ all, filters }, { engine, signal, limits, confirmed }) => {
    const { named, rest, modern } = pruneScope(all, filters, engine.apiVersion);
    // Confirmed: exactly the volumes the user was shown.
    if (Array.isArray(confirmed)) {
      const plan = confirmed.filter((n): n is string => typeof n === 'string');
      const done = await removePlannedVolumes(engine.docker, plan, rest, named, signal);
      return {
        removed: done.removed.slice(0, limits.maxListResults),
        count: done.removed.length,
        space_reclaimed: done.reclaimed,
        ...(done.left.length > 0 && { left: done.left.slice(0, limits.maxListResults) }),
      };
    }
    const res = await engine.docker.pruneVolumes({
      filters: engineFilters({ ...rest, ...(named && modern && { all: ['true'] }) }),
      abortSignal: signal,
    });
    const names = res.VolumesDeleted ?? [];
    return {
      removed: names.slice(0, limits.maxListResults),
      count: names.length,
      space_reclaimed: res.SpaceReclaimed ?? 0,
    };
  },
});

/**
 * Whether named volumes go too (all, or the filter all=true), and the other filters. Older engines
 * know no anonymous-only prune: theirs removes every unused volume, named ones included. Ask for that
 * explicitly rather than delete named data the caller meant to keep (before any question is asked).
 */
function pruneScope(all: boolean | undefined, filters: Record<string, string[]> | undefined, api?: string) {
  const { all: allFilter, ...rest } = filters ?? {};
  checkVolumePruneFilters(rest);
  const named = all === true || (allFilter ?? []).some((v) => ['true', '1'].includes(v.toLowerCase()));
  const modern = spareNamedByDefault(api);
  if (!named && !modern)
    throw new ToolError(
      'invalid_argument',
      `this engine (API ${api ?? 'unknown'}) cannot prune only anonymous volumes: its prune removes named ones too`,
      {
        hint: 'Pass all: true to remove every unused volume (narrow it with filters), or remove chosen ones with docker_remove_volume.',
      },
    );
  return { named, rest, modern };
}
