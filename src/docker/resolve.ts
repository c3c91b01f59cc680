/**
 * One resolver per object kind and one "did you mean": a reference that names nothing becomes a
 * not_found tagged with its kind, suggesting up to five existing names close to it. A new kind
 * (service, node, secret, config) is one more entry in KINDS. Knows nothing of MCP or of any tool.
 */
import type Dockerode from 'dockerode';
import type { EngineRequests } from '../core/engine.ts';
import { type ObjectKind, ToolError } from '../core/errors.ts';
import { isMissing } from './errors.ts';
import { ID_FORM } from './names.ts';
import { engineRequest } from './request.ts';

const MAX_SUGGESTIONS = 5;

/**
 * Up to five of `names` close to `ref`: one contains the other, or they are at most two edits
 * apart. `key` says what to compare (default: the name, case folded).
 */
export function didYouMean(
  ref: string,
  names: Iterable<string>,
  key: (name: string) => string = (n) => n.toLowerCase(),
): string[] {
  const needle = key(ref);
  if (!needle) return [];
  const close: string[] = [];
  for (const name of new Set(names)) {
    const k = key(name);
    if (k && (k.includes(needle) || needle.includes(k) || distance(k, needle) <= 2)) close.push(name);
    if (close.length === MAX_SUGGESTIONS) break;
  }
  return close;
}

/** "<kind> '<ref>' not found", tagged with the kind, naming the close names if there are any. */
export function notFound(kind: ObjectKind, ref: string, close: readonly string[]): ToolError {
  const hint = close.length > 0 ? `Did you mean ${close.map((n) => `'${n}'`).join(', ')}?` : undefined;
  return new ToolError('not_found', `${kind} '${ref}' not found`, { subject: kind, hint });
}

interface Kind {
  /** The engine's 404 message that means the reference names nothing (other 404s keep their own). */
  missing?: RegExp;
  /** Every name a reference of this kind could mean. */
  names(docker: EngineRequests, signal: AbortSignal): Promise<string[]>;
  /** What did-you-mean compares. */
  key?: (name: string) => string;
}

const nameOf = (names: string[] | undefined, id: string) =>
  (names?.[0] ?? id.replace(/^sha256:/, '').slice(0, 12)).replace(/^\//, '');

/** An image's repository without registry host and tag: 'nginx' finds 'docker.io/library/nginx:1.25'. */
const repoOf = (ref: string) =>
  ref
    .replace(/:[^/:]*$/, '')
    .replace(/^[^/]*[.:][^/]*\//, '')
    .toLowerCase();

/** One listing, through the one request function (no dockerode needed). */
const list = <T>(
  docker: EngineRequests,
  path: string,
  signal: AbortSignal,
  query?: Record<string, unknown>,
) => engineRequest<T>(docker, { path, query }, signal);

const KINDS: Record<ObjectKind, Kind> = {
  container: {
    // A missing file in copy or a missing exec is a 404 too, and not about the reference.
    missing: /no such container/i,
    names: async (docker, signal) =>
      (await list<Dockerode.ContainerInfo[]>(docker, '/containers/json', signal, { all: true })).map((c) =>
        nameOf(c.Names, c.Id),
      ),
  },
  image: {
    missing: /no such image|not found|does not exist/i,
    names: async (docker, signal) =>
      (await list<Dockerode.ImageInfo[]>(docker, '/images/json', signal))
        .flatMap((i) => i.RepoTags ?? [])
        .filter((t) => !t.startsWith('<none>')),
    key: repoOf,
  },
  network: {
    names: async (docker, signal) =>
      (await list<Dockerode.NetworkInspectInfo[]>(docker, '/networks', signal)).map((n) => n.Name),
  },
  volume: {
    names: async (docker, signal) =>
      (
        (await list<{ Volumes?: Dockerode.VolumeInspectInfo[] | null }>(docker, '/volumes', signal))
          .Volumes ?? []
      ).map((v) => v.Name),
  },
};

/** The not_found for `ref`, with the close names that exist (a failed listing just names none). */
export async function notFoundAmong(
  kind: ObjectKind,
  docker: EngineRequests,
  ref: string,
  signal: AbortSignal,
): Promise<ToolError> {
  const { names, key } = KINDS[kind];
  const existing = await names(docker, signal).catch(() => [] as string[]);
  return notFound(kind, ref, didYouMean(ref, existing, key));
}

/**
 * Runs `fn`; an engine 404 saying `ref` names no such object becomes notFoundAmong. A handler on the
 * promise rather than an async frame around it: most calls succeed, and pay no extra await.
 */
export function resolving<T>(
  kind: ObjectKind,
  docker: EngineRequests,
  ref: string,
  signal: AbortSignal,
  fn: () => Promise<T>,
): Promise<T> {
  let work: Promise<T>;
  try {
    work = fn();
  } catch (e) {
    work = Promise.reject(e);
  }
  return work.catch(async (e: unknown) => {
    if (isMissing(e, KINDS[kind].missing)) throw await notFoundAmong(kind, docker, ref, signal);
    throw e;
  });
}

/** A container reference as the engine's paths take it: names as inspect shows them ('/web') lose the slash. */
export const containerRef = (ref: string): string => (ref.startsWith('/') ? ref.slice(1) : ref);

/** A container of GET /containers/json, as far as the ambiguity rule reads it. */
export interface ListedId {
  Id: string;
  Names?: string[];
}

/** The containers whose ID starts with `ref` (the engine's `id` filter), for ambiguousContainer. */
export const idFilter = (ref: string) => ({ all: true, filters: JSON.stringify({ id: [ref] }) });

/**
 * Whether the engine may read `ref` either way, as a name (first) or as the start of an ID: of
 * ID_FORM, short of a full ID (64 digits), which the engine matches as an ID before any name. A
 * '/name' is plainly a name. Only then is ambiguousContainer worth asking.
 */
export const mayBeIdPrefix = (ref: string): boolean => ref.length < 64 && ID_FORM.test(ref);

/**
 * `found` is the container the engine took `ref` to mean. If it found a container named `ref` while
 * another (in `listed`) has an ID starting with `ref`, the reference is ambiguous: the refusal naming
 * both, rather than acting on either. Our results hand out 12-digit IDs, so a caller most likely means
 * the ID, but a person who named a container so means the name (and the engine picks the name): only
 * the caller can say which. The same rule for a tool's reference and for one inside a request the
 * engine resolves itself (`container:` modes, VolumesFrom, Links).
 */
export function ambiguousContainer(
  ref: string,
  found: { Id: string },
  listed: readonly ListedId[] | undefined,
  arg?: string,
): ToolError | undefined {
  if (!mayBeIdPrefix(ref) || found.Id.startsWith(ref)) return undefined;
  const owner = listed?.find((c) => c.Id.startsWith(ref) && c.Id !== found.Id);
  if (!owner) return undefined;
  const ownerName = nameOf(owner.Names, owner.Id);
  return new ToolError(
    'invalid_argument',
    `${arg ? `${arg}: ` : ''}container reference '${ref}' is ambiguous: it is the name of container ${found.Id.slice(0, 12)} and the start of the ID of container '${ownerName}'`,
    {
      subject: 'container',
      hint: `Pass the full ID of the one you mean: ${owner.Id} ('${ownerName}'), or ${found.Id} (named '${ref}'); or '/${ref}' for the one named so.`,
    },
  );
}

/** `info` is what the engine found for `ref`; asks the engine only when it is not the ID's own. */
async function unambiguous(
  docker: EngineRequests,
  ref: string,
  info: Dockerode.ContainerInspectInfo,
  signal: AbortSignal,
): Promise<Dockerode.ContainerInspectInfo> {
  if (info.Id.startsWith(ref)) return info;
  const listed = await list<Dockerode.ContainerInfo[]>(docker, '/containers/json', signal, idFilter(ref));
  const refused = ambiguousContainer(ref, info, listed);
  if (refused) throw refused;
  return info;
}

/**
 * Runs `fn` on the container `ref` names. A reference that could be an ID prefix is resolved first
 * (unambiguous), and `fn` acts on the full ID found, so nothing else can take the reference meanwhile.
 */
export const withContainer = <T>(
  docker: Dockerode,
  ref: string,
  signal: AbortSignal,
  fn: (c: Dockerode.Container) => Promise<T>,
): Promise<T> =>
  mayBeIdPrefix(ref)
    ? inspectContainer(docker, ref, signal).then((info) =>
        resolving('container', docker, ref, signal, () => fn(docker.getContainer(info.Id))),
      )
    : resolving('container', docker, ref, signal, () => fn(docker.getContainer(containerRef(ref))));

/** Reads one object's document by reference. */
export type Inspect<T> = (docker: EngineRequests, ref: string, signal: AbortSignal) => Promise<T>;

/** `read`, with a reference that names no object of the kind turned into notFoundAmong. */
const resolver =
  <T>(kind: ObjectKind, read: Inspect<T>): Inspect<T> =>
  (docker, ref, signal) =>
    resolving(kind, docker, ref, signal, () => read(docker, ref, signal));

// The one request function, not dockerode's Container object: the same GET, without its layers.
// A reference mayBeIdPrefix admits is checked for ambiguity, at the cost of a request only when the
// container found is not the ID's own.
export const inspectContainer = resolver<Dockerode.ContainerInspectInfo>(
  'container',
  (docker, ref, signal) => {
    const read = engineRequest<Dockerode.ContainerInspectInfo>(
      docker,
      { path: `/containers/${encodeURIComponent(containerRef(ref))}/json` },
      signal,
    );
    return mayBeIdPrefix(ref) ? read.then((info) => unambiguous(docker, ref, info, signal)) : read;
  },
);

// Dockerode's image and network inspect drop the signal, so these two request the document themselves.
export const inspectImage = resolver<Dockerode.ImageInspectInfo>('image', (docker, ref, signal) =>
  engineRequest(docker, { path: `/images/${ref}/json` }, signal),
);

export const inspectNetwork = resolver<Dockerode.NetworkInspectInfo>('network', (docker, ref, signal) =>
  engineRequest(docker, { path: `/networks/${encodeURIComponent(ref)}` }, signal),
);

export const inspectVolume = resolver<Dockerode.VolumeInspectInfo>('volume', (docker, name, signal) =>
  engineRequest(docker, { path: `/volumes/${encodeURIComponent(name)}` }, signal),
);

/** The volume's document, or undefined when there is none of that name. */
export async function findVolume(
  docker: Dockerode,
  name: string,
  signal: AbortSignal,
): Promise<Dockerode.VolumeInspectInfo | undefined> {
  try {
    return await docker.getVolume(name).inspect({ abortSignal: signal });
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
}

/** Levenshtein distance, bounded: names more than two letters apart in length count as far. */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min(
        (row[j] as number) + 1,
        (row[j - 1] as number) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return row[b.length] as number;
}
