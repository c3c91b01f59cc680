/**
 * Host paths on an engine that does not share this server's filesystem, asked of the engine itself.
 * There the host-path rule is lexical (paths.ts): `/A/x` under an allowlisted `/A` passes as written,
 * yet a container that once could write `/A` may have left `x -> /etc`, and the engine would mount
 * the host's /etc. So each component of such a path below its outermost allowlist entry (that entry
 * was named by the operator; one below it could be made a link through it) is looked at on the engine's host before the request goes out: a container
 * that is never started binds the entry read-only, and `HEAD /containers/{id}/archive?path=…` has the
 * engine mount it and lstat the component (dockerd: daemon/archive.go, containerStatPath). One such
 * container per request, removed whatever happens. Swarm service mounts are not probed: a task's
 * node resolves them, which may be any node. Podman (4.3) cannot be asked: its answer follows a link
 * (scoped to the bind's source) and reports where it leads as the path itself, and a link whose
 * target is missing as a missing path, so such paths are refused there.
 */
import { ToolError } from '../../core/errors.ts';
import { engineSaid, statusOf } from '../errors.ts';
import type { EngineRequest } from '../request.ts';
import { ALLOWLIST_SETTING, displayPath, expandHome, type PathPolicy } from './paths.ts';
import type { RuleContext } from './rules.ts';

/** The label every probe container carries, so an operator can tell one (and a test can find one). */
export const PROBE_LABEL = 'mcp-docker.probe';
/** Where the probe container mounts the entries: `/probe/0`, `/probe/1`… */
const MOUNT = '/probe';
/** Go's os.ModeSymlink and os.ModeDir, as the engine's path stat carries them. */
const MODE_SYMLINK = 2 ** 27;
const MODE_DIR = 2 ** 31;

/**
 * The components one request may have looked at. Each is an engine request (dockerd mounts the probe
 * container to answer: ~30 ms), so 256 keeps the worst case near 8 s, while a request's real binds
 * are a few components each below their entries and dozens of them fit.
 */
export const MAX_PROBED = 256;
/**
 * The components below an entry the engine can look through: it follows the path inside the probe
 * container (`/probe/N/…`, two more) and gives up, with an HTTP 500 and no reason, beyond 256.
 */
export const MAX_DEPTH = 254;

/** The engine's `X-Docker-Container-Path-Stat` header, decoded (daemon's types.ContainerPathStat). */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** The path stat the engine sends as base64 JSON; undefined when the header is missing or unreadable. */
export function decodePathStat(header: unknown): PathStat | undefined {
  const text = Array.isArray(header) ? header[0] : header;
  if (typeof text !== 'string' || !text) return undefined;
  try {
    const v = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as Partial<PathStat>;
    if (typeof v !== 'object' || v === null || typeof v.mode !== 'number') return undefined;
    return {
      name: String(v.name ?? ''),
      size: Number(v.size ?? 0),
      mode: v.mode,
      mtime: String(v.mtime ?? ''),
      linkTarget: String(v.linkTarget ?? ''),
    };
  } catch {
    return undefined;
  }
}

/** Go's FileMode is a uint32: its bits read by division, beyond what JS's int32 bit operators keep. */
const hasBit = (mode: number, bit: number) => Math.floor(mode / bit) % 2 === 1;
export const isSymlink = (s: PathStat): boolean => hasBit(s.mode, MODE_SYMLINK);
export const isDirectory = (s: PathStat): boolean => hasBit(s.mode, MODE_DIR);

/** Where a host path lies below an allowlist entry: the entry (as the path spells it) and the components under it. */
export interface ProbeSpot {
  base: string;
  below: string[];
}

/**
 * What of `path` (lexical, as checkHostPath returns it) to ask the engine's host about: the
 * components below the outermost allowlist entry that admits it. An entry below another is asked
 * about like any path there: a container that can write the outer entry can make the inner one a
 * link. Undefined when there is nothing to ask: the engine shares this filesystem (realpath
 * decided), the path is an outermost entry itself, is not under one, or is not a POSIX path (a
 * Windows engine's drive or pipe).
 */
export function probeSpot(path: string, rule: PathPolicy): ProbeSpot | undefined {
  if (rule.shares || !path.startsWith('/') || path.startsWith('//')) return undefined;
  const segs = path.split('/').filter(Boolean);
  const fold = (s: string) => (rule.foldCase ? s.toLowerCase() : s);
  let depth = -1;
  for (const raw of rule.allowlist) {
    const entry = raw.trim();
    if (!entry) continue;
    const key = displayPath(expandHome(entry, rule.home));
    if (!key.startsWith('/') || key.startsWith('//')) continue;
    const es = key.split('/').filter(Boolean);
    if (es.length <= segs.length && es.every((s, i) => fold(s) === fold(segs[i] as string)))
      depth = depth < 0 ? es.length : Math.min(depth, es.length);
  }
  if (depth < 0 || depth === segs.length) return undefined;
  return { base: `/${segs.slice(0, depth).join('/')}`, below: segs.slice(depth) };
}

/** `rel` below the host directory `base`. */
const under = (base: string, rel: string) => (base === '/' ? `/${rel}` : `${base}/${rel}`);

/** One host path of a request to ask about, with the argument that names it. */
export interface ProbeTarget extends ProbeSpot {
  path: string;
  arg: string;
}

/**
 * The probes of one request: which entries to mount (each once) and, per path (each once), the
 * components to stat in order (`0/a`, `0/a/b`…, under the mount).
 */
export function probePlan(targets: readonly ProbeTarget[]): {
  bases: string[];
  paths: { target: ProbeTarget; mount: number; steps: string[] }[];
} {
  const bases: string[] = [];
  const paths: { target: ProbeTarget; mount: number; steps: string[] }[] = [];
  const seen = new Set<string>();
  for (const t of targets) {
    const key = under(t.base, t.below.join('/'));
    if (seen.has(key)) continue;
    seen.add(key);
    let mount = bases.indexOf(t.base);
    if (mount < 0) mount = bases.push(t.base) - 1;
    paths.push({ target: t, mount, steps: t.below.map((_, i) => t.below.slice(0, i + 1).join('/')) });
  }
  return { bases, paths };
}

/** The engine asked: its name, for a refusal, and whether it is Podman, which cannot be asked. */
export interface ProbedEngine {
  name: string;
  podman?: boolean;
}

/** What the probe asks the engine: the guard's own requests (request.ts GuardIO), or a client's. */
export interface ProbeIO {
  get<T>(path: string, query?: Record<string, unknown>): Promise<T | undefined>;
  send(req: EngineRequest, o?: { head?: boolean; detached?: boolean }): Promise<unknown>;
  readonly signal?: AbortSignal;
}

/** The host paths one request names, gathered as the rules judge them, then asked of the engine. */
export class PathProbes {
  private readonly targets: ProbeTarget[] = [];
  constructor(private readonly rule: PathPolicy) {}

  /**
   * `ctx` whose host-path rule also notes each path it admits below an allowlist entry; `name`
   * rewrites the argument a refusal names (a Compose service's key).
   */
  watch(ctx: RuleContext, name: (arg: string) => string = (a) => a): RuleContext {
    return {
      ...ctx,
      hostPath: (raw, arg) => {
        const path = ctx.hostPath(raw, arg);
        const spot = probeSpot(path, this.rule);
        if (spot) this.targets.push({ ...spot, path, arg: name(arg) });
        return path;
      },
    };
  }

  /**
   * Asks the engine's host about every path noted: refuses (policy_denied) a path with a symbolic
   * link at or above it below its entry. `images`: the request's own image, tried first.
   */
  async run(
    io: ProbeIO,
    o: { engine: ProbedEngine; images?: readonly (string | undefined)[] },
  ): Promise<void> {
    if (!this.targets.length) return;
    await probeHostPaths(this.targets, io, o);
  }
}

/** An image the engine has: the first of `wanted` it holds, else the first it lists. */
async function probeImage(io: ProbeIO, wanted: readonly (string | undefined)[]): Promise<string | undefined> {
  for (const ref of wanted) {
    if (!ref) continue;
    const found = await io.get<{ Id?: string }>(`/images/${ref}/json`).catch(() => undefined);
    if (found?.Id) return found.Id;
  }
  const all = await io.get<{ Id?: string }[]>('/images/json');
  return all?.find((i) => i.Id)?.Id;
}

const reasonOf = (e: unknown) => {
  const said = engineSaid(e).trim();
  if (said) return said;
  // An answer to HEAD has no body, so the engine's reason never reaches us.
  const status = statusOf(e);
  if (status !== undefined) return `HTTP ${status}, with no reason given`;
  return e instanceof Error ? e.message : String(e);
};

/** Asks the engine's host about `targets` through one probe container; see the file's comment. */
export async function probeHostPaths(
  targets: readonly ProbeTarget[],
  io: ProbeIO,
  o: { engine: ProbedEngine; images?: readonly (string | undefined)[] },
): Promise<void> {
  const { bases, paths } = probePlan(targets);
  const first = paths[0]?.target;
  if (!first) return;
  const engine = o.engine.name;
  const on = `engine '${engine}''s host`;
  // A remote caller is not told the operator's allowlist entries.
  const cannot = (t: ProbeTarget, why: string, hint: string, retry = true) =>
    new ToolError(
      'policy_denied',
      `${t.arg}: host path '${t.path}' lies below allowlist entry '${t.base}' on an engine that does not share this server's filesystem, so ${on} is asked whether it passes through a symbolic link; ${why}`,
      {
        hint,
        remote: {
          message: `${t.arg}: host path '${t.path}' could not be checked for symbolic links on ${on}: ${why}`,
          hint: `${retry ? 'Retry, or use' : 'Use a shallower host path, or'} a host path this server allows as it is; its operator decides which with ${ALLOWLIST_SETTING}.`,
        },
      },
    );
  const alternatives = (t: ProbeTarget) =>
    `bind '${t.base}' itself (an allowlist entry that no other entry contains needs no check), or, if you trust what '${t.path}' is, make it such an entry in ${ALLOWLIST_SETTING}`;
  if (o.engine.podman)
    throw cannot(
      first,
      `engine '${engine}' is Podman, whose answer follows a link and reports where it leads as the path itself, so it cannot tell`,
      `Instead, ${alternatives(first)}.`,
    );
  // Bounded before anything is asked: a caller may send many deep paths.
  const counted = new Set<string>();
  for (const { target, mount, steps } of paths) {
    if (steps.length > MAX_DEPTH)
      throw cannot(
        target,
        `it is ${steps.length} components below the entry, and the engine cannot look deeper than ${MAX_DEPTH}`,
        `Bind a path at most ${MAX_DEPTH} components below '${target.base}'; or ${alternatives(target)}.`,
        false,
      );
    for (const step of steps) counted.add(`${mount}/${step}`);
    if (counted.size > MAX_PROBED)
      throw cannot(
        target,
        `with it this request's host paths have more than ${MAX_PROBED} components below their entries to look at, the most one request may ask (each is an engine request)`,
        `Bind fewer or shallower paths in one request; or ${alternatives(target)}.`,
        false,
      );
  }
  const image = await probeImage(io, o.images ?? []);
  if (!image)
    throw cannot(
      first,
      'that needs an image on the engine, which has none',
      `Pull or load any image on engine '${engine}' (docker_pull_image), then retry; or ${alternatives(first)}.`,
    );

  const name = `mcp-docker-probe-${crypto.getRandomValues(new Uint32Array(2)).join('')}`;
  const body = {
    Image: image,
    Cmd: ['probe'],
    Labels: { [PROBE_LABEL]: '1' },
    NetworkDisabled: true,
    HostConfig: {
      Binds: bases.map((b, i) => `${b}:${MOUNT}/${i}:ro`),
      NetworkMode: 'none',
    },
  };
  let id: string | undefined;
  try {
    // Not cut short by a cancel: an answer lost would leave a container behind unseen.
    const made = await io
      .send({ path: '/containers/create', method: 'POST', query: { name }, body }, { detached: true })
      .catch((e: unknown) => {
        throw cannot(first, `the engine did not make the container that looks (${reasonOf(e)})`, 'Retry.');
      });
    id = (made as { Id?: string } | undefined)?.Id;
    if (!id) throw cannot(first, 'the engine did not make the container that looks', 'Retry.');
    io.signal?.throwIfAborted();
    const known = new Map<string, PathStat | undefined>();
    for (const { target, mount, steps } of paths) {
      for (const step of steps) {
        const at = `${mount}/${step}`;
        let stat = known.get(at);
        if (!known.has(at)) {
          stat = await statOf(io, id, `${MOUNT}/${at}`).catch((e: unknown) => {
            if (io.signal?.aborted) throw e;
            // An answer (a link loop, a path it cannot follow) stays the same; a lost connection may not.
            const answered = statusOf(e) !== undefined;
            throw cannot(
              target,
              `engine '${engine}' could not tell what '${under(target.base, step)}' is (${reasonOf(e)})${answered ? ': a symbolic-link loop there, or a path it cannot follow, answers so' : ''}`,
              answered
                ? `Bind a path that does not pass through '${under(target.base, step)}'; or ${alternatives(target)}.`
                : `Retry; or ${alternatives(target)}.`,
              !answered,
            );
          });
          known.set(at, stat);
        }
        // Missing: the rest does not exist yet either, and the engine makes it as a directory.
        if (!stat) break;
        if (isSymlink(stat))
          throw linkRefusal(target, under(target.base, step), inHostTerms(stat.linkTarget, bases), on);
        // A file: nothing lies below it, and the engine refuses to mount through it.
        if (!isDirectory(stat)) break;
      }
    }
  } finally {
    await remove(io, id ?? name);
  }
}

/** The path stat of `path` in container `id`; undefined when it does not exist. */
async function statOf(io: ProbeIO, id: string, path: string): Promise<PathStat | undefined> {
  let headers: unknown;
  try {
    headers = await io.send(
      { path: `/containers/${id}/archive`, method: 'HEAD', query: { path } },
      { head: true },
    );
  } catch (e) {
    if (statusOf(e) === 404) return undefined;
    throw e;
  }
  const stat = decodePathStat((headers as Record<string, unknown>)['x-docker-container-path-stat']);
  if (!stat) throw new Error('no X-Docker-Container-Path-Stat header in its answer');
  return stat;
}

/** Removes the probe container (its anonymous volumes too), once more if the first try fails; a 404 is done. */
async function remove(io: ProbeIO, ref: string): Promise<void> {
  for (let i = 0; i < 2; i++) {
    try {
      await io.send(
        { path: `/containers/${ref}`, method: 'DELETE', query: { force: true, v: true } },
        { detached: true },
      );
      return;
    } catch (e) {
      if (statusOf(e) === 404) return;
    }
  }
}

/** A link's target as the engine resolved it in the probe's root, a mounted entry's path put back. */
function inHostTerms(to: string, bases: readonly string[]): string {
  const mounted = /^\/probe\/(\d+)(?=\/|$)/.exec(to);
  const base = mounted ? bases[Number(mounted[1])] : undefined;
  const rest = to.slice(mounted?.[0].length ?? 0).replace(/^\//, '');
  return mounted && base !== undefined ? (rest ? under(base, rest) : base) : to;
}

/** The refusal of `target`, which passes through the symbolic link `link` (to `shown`). */
function linkRefusal(target: ProbeTarget, link: string, shown: string, on: string): ToolError {
  const where = link === target.path ? `'${link}' is` : `'${target.path}' passes through '${link}', which is`;
  return new ToolError(
    'policy_denied',
    `${target.arg}: host path ${where} a symbolic link on ${on}${shown ? ` (to '${shown}')` : ''}, which the engine would follow`,
    {
      hint: `Bind the directory it leads to if ${ALLOWLIST_SETTING} admits it: on an engine that does not share this server's filesystem, a path through a link below an allowlist entry is refused.`,
    },
  );
}
