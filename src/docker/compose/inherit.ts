/**
 * A recreated container keeps its anonymous volumes, as Compose does (v2's buildContainerMountOptions,
 * 1.29's get_container_data_volumes): a service's `volumes: ["/data"]` and every image VOLUME the old
 * container had a volume at go to the new one by name, at the same path. Otherwise the new container
 * starts empty and the data stays in a volume nothing names.
 */
import type Dockerode from 'dockerode';
import type { ContainerSpec, MountSpec } from '../container-spec.ts';

/** A mount of GET /containers/json, as far as inheriting it goes. */
export interface ListedMount {
  Type?: string;
  Name?: string;
  Destination?: string;
  RW?: boolean;
}

const clean = (p: string) => (p.length > 1 ? p.replace(/\/+$/, '') : p);

/**
 * The anonymous volumes a recreated container was given by name, comma-separated: its create body
 * names them as it names an external volume, and down must still know them for the engine's.
 */
export const INHERITED_LABEL = 'mcp-docker.anonymous-volumes';

/** A volume the engine named itself: an anonymous volume (Docker and Podman alike). */
export const isAnonymousVolume = (name: string | undefined): name is string =>
  name !== undefined && /^[0-9a-f]{64}$/.test(name);

/**
 * `spec` with the old container's volumes where it has an anonymous volume (no source) or an image
 * VOLUME at the same path: the image is asked for its VOLUMEs only when some old volume is left over.
 */
export async function inheritVolumes(
  docker: Dockerode,
  old: readonly ListedMount[] | undefined,
  spec: ContainerSpec,
  signal: AbortSignal,
): Promise<ContainerSpec> {
  const volumes = (old ?? []).filter((m) => m.Type === 'volume' && m.Name && m.Destination);
  if (volumes.length === 0) return spec;
  const mounts: MountSpec[] = [...(spec.mounts ?? [])];
  // Binds (`src:dst[:mode]`, short-syntax host paths) hold their targets too.
  const taken = new Set([
    ...mounts.map((m) => clean(m.target)),
    ...(spec.binds ?? []).map((b) => clean(b.split(':')[1] ?? '')),
  ]);
  const rest: ListedMount[] = [];
  const inherited: string[] = [];
  for (const m of volumes) {
    const at = clean(m.Destination as string);
    const i = mounts.findIndex((x) => x.type === 'volume' && !x.source && clean(x.target) === at);
    if (i >= 0) {
      mounts[i] = { ...(mounts[i] as MountSpec), source: m.Name };
      inherited.push(m.Name as string);
    } else if (!taken.has(at)) rest.push(m);
  }
  if (rest.length > 0 && spec.image) {
    // The image exists (up pulled or built it): one that cannot be read gives nothing to keep.
    const image = await (
      docker.getImage(spec.image).inspect({ abortSignal: signal } as never) as unknown as Promise<{
        Config?: { Volumes?: Record<string, unknown> | null };
      }>
    ).catch(() => undefined);
    const declared = image?.Config?.Volumes ?? {};
    for (const m of rest) {
      const at = clean(m.Destination as string);
      if (!(at in declared) || taken.has(at)) continue;
      mounts.push({ type: 'volume', source: m.Name, target: at, ...(m.RW === false && { readOnly: true }) });
      inherited.push(m.Name as string);
      taken.add(at);
    }
  }
  return {
    ...spec,
    mounts,
    ...(inherited.length > 0 && { labels: { ...spec.labels, [INHERITED_LABEL]: inherited.join(',') } }),
  };
}
