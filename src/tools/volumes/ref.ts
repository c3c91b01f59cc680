/** The volume name parameter, its compact summary, and which containers use it. */
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { NAME_PATTERN, shortId } from '../../docker/names.ts';

// The name goes into the request path: only the characters the engine allows, so '../x' cannot
// reach another endpoint.
export const VolumeRef = Type.String({
  minLength: 1,
  expects: 'a volume name',
  maxLength: 256,
  pattern: NAME_PATTERN,
});

/** The engine's rule: two or more characters, starting with a letter or digit. */
export const VOLUME_NAME = '^[a-zA-Z0-9][a-zA-Z0-9_.-]+$';

/** Names of the containers, running or not, that mount the volume. */
export async function containersUsing(
  docker: Dockerode,
  name: string,
  signal: AbortSignal,
): Promise<string[]> {
  const rows = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ volume: [name] }),
    abortSignal: signal,
  });
  // The engine's filter also matches a mount destination of that name; keep real users only.
  return rows
    .filter((c) => (c.Mounts ?? []).some((m) => m.Name === name))
    .map((c) => (c.Names?.[0] ?? shortId(c.Id)).replace(/^\//, ''));
}

const nonEmpty = (o: Record<string, string> | undefined | null) =>
  o && Object.keys(o).length > 0 ? o : undefined;

/** The fields people read from a volume's inspect document; nothing empty. */
export function volumeSummary(v: Dockerode.VolumeInspectInfo & { CreatedAt?: string }) {
  const labels = nonEmpty(v.Labels);
  const options = nonEmpty(v.Options);
  return {
    name: v.Name,
    driver: v.Driver,
    scope: v.Scope,
    ...(v.CreatedAt && { created: v.CreatedAt }),
    mountpoint: v.Mountpoint,
    ...(labels && { labels }),
    ...(options && { options }),
  };
}

export const VolumeSummary = Type.Object({
  name: Type.String(),
  driver: Type.String(),
  scope: Type.String(),
  created: Type.Optional(Type.String()),
  mountpoint: Type.String({ description: 'Path on the engine host' }),
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  options: Type.Optional(Type.Record(Type.String(), Type.String())),
  used_by: Type.Optional(Type.Array(Type.String(), { description: 'Containers mounting it' })),
});
