/**
 * Host paths containers mount, against the directories containers can write. A container that can
 * write a host directory (a writable bind) can put a symlink anywhere inside it, and the engine
 * resolves a bind source again each time it mounts it: a start, a restart it makes by itself (a
 * restart policy, its own start-up), a read of a stopped container's files. A source inside such a
 * directory can come to name /etc after our check, or long after it. So a container may not mount a
 * host path inside a directory a container (itself included) can write, nor write a directory that
 * holds another container's source. The same path in both is fine: a mount's own root cannot be
 * replaced from inside it.
 */
import { ToolError } from '../../core/errors.ts';
import { field, isObj, list } from './keys.ts';
import { displayPath } from './paths.ts';
import {
  bindSource,
  bindVolumeDevice,
  bindVolumeName,
  mountDriverConfig,
  type RuleContext,
} from './rules.ts';

/** A host path a container mounts. */
export interface HostMount {
  /** As written and as it resolves now. */
  paths: string[];
  writable: boolean;
  /** The argument that names it (this container's) or the container that has it (another's). */
  by: string;
  other: boolean;
}

/** A container of GET /containers/json?all=1, as far as its mounts go. */
export interface ListedContainer {
  Id?: string;
  Names?: string[];
  Labels?: Record<string, string>;
  Mounts?: { Type?: string; Source?: string; Name?: string; Driver?: string; RW?: boolean }[];
}

/** A volume of GET /volumes, as far as a bind behind it goes. */
export interface ListedVolume {
  Name: string;
  Driver?: string;
  Options?: Record<string, unknown> | null;
}

/**
 * What the check may ask the engine, each once per check (mountLookup): every container (GET
 * /containers/json?all=1) and every volume by name (GET /volumes). One list, not an inspect per
 * volume, since every other container's volumes are looked at.
 */
export interface MountLookup {
  volumes(): Promise<Map<string, ListedVolume>>;
  containers(): Promise<ListedContainer[] | undefined>;
}

/** The MountLookup over the engine's two lists, each asked for once, when first needed. */
export function mountLookup(ask: {
  volumes(): Promise<ListedVolume[] | null | undefined>;
  containers(): Promise<ListedContainer[] | undefined>;
}): MountLookup {
  let volumes: Promise<Map<string, ListedVolume>> | undefined;
  let containers: Promise<ListedContainer[] | undefined> | undefined;
  return {
    volumes: () => {
      volumes ??= ask.volumes().then((list) => new Map((list ?? []).map((v) => [v.Name, v])));
      return volumes;
    },
    containers: () => {
      containers ??= ask.containers();
      return containers;
    },
  };
}

const inside = (path: string, dir: string) => (dir === '/' ? path !== '/' : path.startsWith(`${dir}/`));

function mount(ctx: RuleContext, raw: string, writable: boolean, by: string, other = false): HostMount {
  return { paths: [...new Set([ctx.resolve(raw), displayPath(raw)])], writable, by, other };
}

/** The host path behind a named volume of the local driver, when it is a bind. */
async function volumeDevice(name: string, lookup: MountLookup): Promise<string | undefined> {
  const v = (await lookup.volumes()).get(name);
  return v && (!v.Driver || v.Driver === 'local') ? bindVolumeDevice(v.Options) : undefined;
}

/** The host paths a create body's HostConfig mounts (its binds and bind volumes). */
export async function requestMounts(
  hc: unknown,
  at: string,
  ctx: RuleContext,
  lookup: MountLookup,
): Promise<HostMount[]> {
  const out: HostMount[] = [];
  for (const [i, entry] of list(field(hc, 'Binds', at)).entries()) {
    if (typeof entry !== 'string') continue;
    const mode = entry.slice(entry.indexOf(':') + 1).split(':')[1] ?? '';
    const writable = !mode.split(',').includes('ro');
    const src = bindSource(entry) ?? (await deviceOf(bindVolumeName(entry), lookup));
    if (src) out.push(mount(ctx, src, writable, `${at}.Binds[${i}]`));
  }
  for (const [i, m] of list(field(hc, 'Mounts', at)).entries()) {
    if (!isObj(m)) continue;
    const arg = `${at}.Mounts[${i}]`;
    const type = String(field(m, 'Type', arg) ?? 'volume').toLowerCase();
    const source = field(m, 'Source', arg);
    const writable = field(m, 'ReadOnly', arg) !== true;
    if (type === 'bind' && typeof source === 'string') out.push(mount(ctx, source, writable, arg));
    if (type !== 'volume') continue;
    const options = field(mountDriverConfig(m, arg), 'Options', `${arg}.VolumeOptions.DriverConfig`);
    const device =
      bindVolumeDevice(options) ?? (typeof source === 'string' ? await deviceOf(source, lookup) : undefined);
    if (device) out.push(mount(ctx, device, writable, arg));
  }
  return out;
}

const deviceOf = (name: string | undefined, lookup: MountLookup) =>
  name ? volumeDevice(name, lookup) : Promise.resolve(undefined);

/** The host paths a container mounts, from the engine's account of it (inspect or list). */
export async function containerMounts(
  mounts: ListedContainer['Mounts'],
  by: (i: number) => string,
  other: boolean,
  ctx: RuleContext,
  lookup: MountLookup,
): Promise<HostMount[]> {
  const out: HostMount[] = [];
  for (const [i, m] of (mounts ?? []).entries()) {
    const writable = m.RW !== false;
    if (m.Type === 'bind' && m.Source) out.push(mount(ctx, m.Source, writable, by(i), other));
    if (m.Type === 'volume' && m.Name && (!m.Driver || m.Driver === 'local')) {
      const device = await volumeDevice(m.Name, lookup);
      if (device) out.push(mount(ctx, device, writable, by(i), other));
    }
  }
  return out;
}

/** The host mounts of every container but those `skip` names (the one being checked). */
export async function othersMounts(
  skip: (c: ListedContainer) => boolean,
  ctx: RuleContext,
  lookup: MountLookup,
): Promise<HostMount[]> {
  const out: HostMount[] = [];
  for (const c of (await lookup.containers()) ?? []) {
    if (skip(c)) continue;
    const name = `container '${(c.Names?.[0] ?? c.Id?.slice(0, 12) ?? '?').replace(/^\//, '')}'`;
    out.push(...(await containerMounts(c.Mounts, () => name, true, ctx, lookup)));
  }
  return out;
}

/** Refuses `own` mounts that nest with a writable directory: their own, or another container's. */
export function checkNesting(own: HostMount[], others: HostMount[]): void {
  const writers = [...own, ...others].filter((w) => w.writable);
  for (const m of own) {
    for (const w of writers) {
      const p = m.paths.find((x) => w.paths.some((d) => inside(x, d)));
      if (p === undefined) continue;
      const d = w.paths.find((x) => inside(p, x)) as string;
      const who = w.other ? w.by : `this container (${w.by})`;
      throw new ToolError(
        'policy_denied',
        `${m.by}: host path '${p}' is inside '${d}', which ${who} can write: a symlink put there would be followed each time the engine mounts the path`,
        {
          hint: `Mount '${d}' read-only${w.other ? ` in ${w.by}` : ''}, or mount a path outside it (a named volume for data).`,
        },
      );
    }
    if (!m.writable) continue;
    for (const o of others) {
      const p = o.paths.find((x) => m.paths.some((d) => inside(x, d)));
      if (p === undefined) continue;
      const d = m.paths.find((x) => inside(p, x)) as string;
      throw new ToolError(
        'policy_denied',
        `${m.by}: host path '${d}' holds '${p}', which ${o.by} mounts: this container could put a symlink in its place, followed when the engine mounts it again`,
        { hint: `Mount '${d}' read-only, or a directory beside '${p}' rather than above it.` },
      );
    }
  }
}
