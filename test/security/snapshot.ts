/**
 * "Nothing changed": before/after snapshots of this run's engine objects and of the host paths a row names.
 *
 * On a shared engine other runs create and remove objects at the same time, so the snapshot holds every
 * object of THIS suite (named with its token) — the fixtures, the objects earlier rows made, and whatever a
 * refused call might have made, since every name and tag a row passes carries the token. For each container: state, start time, restart count, exec ids, binds and mounts, and (for the
 * fixtures and the row's own containers) its filesystem changes, so an exec or a copy into it shows; for
 * volumes their driver and options; for images their tags and ids; for networks their ids.
 */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { testDocker } from '../helpers/engine.ts';

/** Every name this run gives an engine object starts with it, so the snapshot and teardown find them. */
export const TOKEN = `mcpt-sec-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 5)}`;

/**
 * Whether an object is this suite's: by its name alone. Other test files of the same run share the run's
 * label, and their leftovers may still change state while this file runs.
 */
export const ours = (name: string): boolean => name.includes(TOKEN);

export interface Snapshot {
  engine: Record<string, unknown>;
  host: Record<string, string>;
}

/** Every engine object of this run, as comparable data. */
/**
 * Every engine object of this run, as comparable data. The filesystem changes (what an exec or a copy
 * leaves) are read for the shared fixtures and the row's own containers (names holding `focus`): those
 * are the ones a row acts on, and reading them for every container of the run would cost seconds a row.
 */
export async function engineSnapshot(focus = '-fx-'): Promise<Record<string, unknown>> {
  const docker = testDocker();
  const out: Record<string, unknown> = {};
  const named = await docker.listContainers({ all: true, filters: { name: [TOKEN] } });
  const ids = named.map((c) => c.Id);
  const rows = await Promise.all(
    ids.map(async (id) => {
      const handle = docker.getContainer(id);
      const info = await handle.inspect().catch(() => undefined);
      if (!info) return undefined;
      const watched = info.Name.includes('-fx-') || info.Name.includes(focus);
      const changes = watched
        ? (((await handle.changes().catch(() => [])) ?? []) as { Path: string; Kind: number }[])
        : [];
      return [
        `container ${info.Name}`,
        {
          id: info.Id,
          status: info.State.Status,
          startedAt: info.State.StartedAt,
          restarts: info.RestartCount,
          execs: (info.ExecIDs ?? []).length,
          changes: changes.map((x) => `${x.Kind} ${x.Path}`).sort(),
          binds: info.HostConfig.Binds ?? [],
          volumes: (info.Mounts ?? []).map((m) => `${m.Type} ${m.Name ?? ''} ${m.Source}`).sort(),
        },
      ] as const;
    }),
  );
  for (const row of rows) if (row) out[row[0]] = row[1];
  const { Volumes } = await docker.listVolumes();
  for (const v of (Volumes ?? []).filter((v) => ours(v.Name)))
    out[`volume ${v.Name}`] = { driver: v.Driver, options: v.Options ?? {}, labels: v.Labels ?? {} };
  for (const image of await docker.listImages()) {
    const tags = (image.RepoTags ?? []).filter((t) => t.includes(TOKEN));
    if (tags.length) out[`image ${image.Id}`] = tags.sort();
  }
  for (const n of await docker.listNetworks()) if (ours(n.Name)) out[`network ${n.Name}`] = n.Id;
  return out;
}

/**
 * A host path's fingerprint without following it: absent; a symlink and what it points to (then the
 * target's fingerprint); a file's sha256; a directory's entry names and types (its top level: the
 * contents of /etc or a data root are other processes' to change); anything else its type, inode and device.
 */
export function fingerprint(path: string, depth = 0): string {
  let st: ReturnType<typeof lstatSync>;
  try {
    st = lstatSync(path);
  } catch {
    return 'absent';
  }
  if (st.isSymbolicLink()) {
    const to = readlinkSync(path);
    return `symlink ${to} -> ${depth < 8 ? fingerprint(to.startsWith('/') ? to : join(dirname(path), to), depth + 1) : '…'}`;
  }
  if (st.isFile()) {
    const hash = createHash('sha256');
    try {
      hash.update(readFileSync(path));
    } catch (e) {
      return `file unreadable ${(e as Error).message}`;
    }
    return `file ${st.size} ${hash.digest('hex')}`;
  }
  if (st.isDirectory()) {
    const entries = readdirSync(path, { withFileTypes: true })
      .map((e) => `${e.name}:${e.isDirectory() ? 'd' : e.isSymbolicLink() ? 'l' : 'f'}`)
      .sort();
    return `dir ${createHash('sha256').update(entries.join('\n')).digest('hex')}`;
  }
  return `other mode=${st.mode} ino=${st.ino} rdev=${st.rdev}`;
}

/**
 * The host paths a row names: every absolute path in its arguments (each part of `src:dst` and of
 * overlay's `dir:dir` lists, `key=/path` values), with the roots shared with other processes left out
 * (the temp dir, the home, /dev: their listings change under everyone's feet).
 */
export function namedPaths(args: unknown, extra: string[] = []): string[] {
  const found = new Set<string>(extra);
  const visit = (v: unknown) => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(/(?:^|[:=,\s])(\/[^:=,\s]*)/g))
        found.add((m[1] as string).replace(/(.)\/+$/, '$1'));
    } else if (Array.isArray(v)) v.forEach(visit);
    else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        visit(k);
        visit(x);
      }
  };
  visit(args);
  const shared = new Set([tmpdir(), homedir(), '/dev', '/tmp', '/run', '/var/run']);
  return [...found].filter((p) => !shared.has(p)).sort();
}

export function hostSnapshot(paths: string[]): Record<string, string> {
  return Object.fromEntries(paths.map((p) => [p, fingerprint(p)]));
}
