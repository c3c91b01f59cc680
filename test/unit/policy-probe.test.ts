import { describe, expect, it } from 'bun:test';
import { ToolError } from '../../src/core/errors.ts';
import type { PathPolicy } from '../../src/docker/policy/paths.ts';
import {
  decodePathStat,
  isDirectory,
  isSymlink,
  MAX_DEPTH,
  MAX_PROBED,
  PathProbes,
  type ProbeIO,
  type ProbeTarget,
  probeHostPaths,
  probePlan,
  probeSpot,
} from '../../src/docker/policy/probe.ts';
import type { RuleContext } from '../../src/docker/policy/rules.ts';
import type { EngineRequest } from '../../src/docker/request.ts';

/** Headers dockerd 20.10 sent for a link to /etc, a directory and a file. */
const LINK =
  'eyJuYW1lIjoieCIsInNpemUiOjQsIm1vZGUiOjEzNDIxODIzOSwibXRpbWUiOiIyMDI2LTEyLTA3VDE3OjU5OjAyLjQxOTA3MDIyNVoiLCJsaW5rVGFyZ2V0IjoiL2V0YyJ9';
const DIR =
  'eyJuYW1lIjoicGxhaW4iLCJzaXplIjo0MDk2LCJtb2RlIjoyMTQ3NDg0MTQxLCJtdGltZSI6IjIwMjYtMTItMDdUMTc6NTk6MDIuMzk5MDcwMjI1WiIsImxpbmtUYXJnZXQiOiIifQ==';
const FILE =
  'eyJuYW1lIjoicGFzc3dkIiwic2l6ZSI6MzAsIm1vZGUiOjQyMCwibXRpbWUiOiIyMDI2LTEyLTA3VDEyOjA3OjEyWiIsImxpbmtUYXJnZXQiOiIifQ==';
const header = (stat: object) => Buffer.from(JSON.stringify(stat)).toString('base64');

const rule = (allowlist: string[], o: Partial<PathPolicy> = {}): PathPolicy => ({
  allowlist,
  blocklist: [],
  home: '/home/me',
  tmpDir: '/tmp',
  sensitive: [],
  shares: false,
  fs: { realpath: () => undefined },
  ...o,
});

describe('the engine path stat', () => {
  it("decodes dockerd's header and reads Go's mode bits", () => {
    const link = decodePathStat(LINK);
    expect(link).toMatchObject({ name: 'x', size: 4, linkTarget: '/etc' });
    expect(link && isSymlink(link)).toBe(true);
    const dir = decodePathStat([DIR]);
    expect(dir && [isSymlink(dir), isDirectory(dir)]).toEqual([false, true]);
    const file = decodePathStat(FILE);
    expect(file && [isSymlink(file), isDirectory(file)]).toEqual([false, false]);
  });

  it('is undefined for a missing or unreadable header', () => {
    for (const h of [undefined, '', 'not base64 json', header({ name: 'x' }), header([1]), 42])
      expect(decodePathStat(h)).toBeUndefined();
  });
});

describe('which components are asked about', () => {
  it('takes those below the outermost entry that admits the path, an inner entry included', () => {
    expect(probeSpot('/A/x', rule(['/A']))).toEqual({ base: '/A', below: ['x'] });
    // A caller that can write /A can make /A/b a link: /A/b is asked about like any path in /A.
    for (const entries of [
      ['/A', '/A/b'],
      ['/A/b', '/A'],
    ]) {
      expect(probeSpot('/A/b/c/d', rule(entries))).toEqual({ base: '/A', below: ['b', 'c', 'd'] });
      expect(probeSpot('/A/b', rule(entries))).toEqual({ base: '/A', below: ['b'] });
    }
    expect(probeSpot('/A/b/c', rule(['/A/b']))).toEqual({ base: '/A/b', below: ['c'] });
    expect(probeSpot('/home/me/p/x', rule(['~/p/']))).toEqual({ base: '/home/me/p', below: ['x'] });
    expect(probeSpot('/srv/x', rule(['/']))).toEqual({ base: '/', below: ['srv', 'x'] });
  });

  it('asks nothing for an entry itself, a sharing engine, a path under no entry or a Windows path', () => {
    expect(probeSpot('/A', rule(['/A/']))).toBeUndefined();
    expect(probeSpot('/A/x', rule(['/A'], { shares: true }))).toBeUndefined();
    expect(probeSpot('/B/x', rule(['/A']))).toBeUndefined();
    expect(probeSpot('/AB/x', rule(['/A']))).toBeUndefined();
    expect(probeSpot('C:/A/x', rule(['C:/A']))).toBeUndefined();
    expect(probeSpot('//./pipe/x', rule(['/']))).toBeUndefined();
  });

  it('matches entries in any case where the filesystem does, keeping the path’s own spelling', () => {
    expect(probeSpot('/data/X', rule(['/Data'], { foldCase: true }))).toEqual({
      base: '/data',
      below: ['X'],
    });
    expect(probeSpot('/data/X', rule(['/Data']))).toBeUndefined();
  });

  it('plans one mount per entry and each path once, component by component', () => {
    const t = (path: string, base: string, arg = 'a'): ProbeTarget => ({
      path,
      arg,
      base,
      below: path.slice(base.length + 1).split('/'),
    });
    const plan = probePlan([t('/A/x/y', '/A'), t('/B/z', '/B'), t('/A/x/y', '/A', 'b'), t('/A/w', '/A')]);
    expect(plan.bases).toEqual(['/A', '/B']);
    expect(plan.paths.map((p) => [p.target.path, p.mount, p.steps])).toEqual([
      ['/A/x/y', 0, ['x', 'x/y']],
      ['/B/z', 1, ['z']],
      ['/A/w', 0, ['w']],
    ]);
  });

  it('notes only the paths the rule admits below an entry, named as the caller wants', async () => {
    const probes = new PathProbes(rule(['/A']));
    const ctx = { hostPath: (raw: string) => raw } as unknown as RuleContext;
    const watched = probes.watch(ctx, (arg) => `service "s": ${arg}`);
    expect(watched.hostPath('/A', 'Binds[0]')).toBe('/A');
    expect(watched.hostPath('/A/x', 'Binds[1]')).toBe('/A/x');
    const io = fakeEngine({ '/probe/0/x': LINK });
    const e = await refusalOf(probes.run(io, { engine: { name: 'e' } }));
    expect(e?.message).toStartWith(`service "s": Binds[1]: host path '/A/x' is a symbolic link`);
    expect(io.asked.filter((a) => a.startsWith('HEAD'))).toEqual(['HEAD /probe/0/x']);
  });

  it('asks nothing when no path was noted', async () => {
    const io = fakeEngine({});
    await new PathProbes(rule(['/A'])).run(io, { engine: { name: 'e' } });
    expect(io.asked).toEqual([]);
  });
});

/** A stand-in engine: stats by probe path (absent: 404), its images, and every request asked. */
function fakeEngine(
  stats: Record<string, string | Error>,
  o: { images?: string[]; own?: Record<string, string>; signal?: AbortSignal; failCreate?: boolean } = {},
) {
  const asked: string[] = [];
  const bodies: unknown[] = [];
  const io: ProbeIO & { asked: string[]; bodies: unknown[] } = {
    asked,
    bodies,
    signal: o.signal,
    get: async <T>(path: string) => {
      asked.push(`GET ${path}`);
      if (path === '/images/json') return (o.images ?? ['sha256:any']).map((Id) => ({ Id })) as T;
      const own = /^\/images\/(.+)\/json$/.exec(path)?.[1];
      const id = own ? o.own?.[own] : undefined;
      return (id ? { Id: id } : undefined) as T | undefined;
    },
    send: async (req: EngineRequest, opt = {}) => {
      if (req.method === 'POST') {
        asked.push(`POST ${req.path}${opt.detached ? ' detached' : ''}`);
        bodies.push(req.body);
        if (o.failCreate)
          throw Object.assign(new Error('no'), { statusCode: 500, json: { message: 'disk full' } });
        return { Id: 'probe1' };
      }
      if (req.method === 'DELETE') {
        asked.push(`DELETE ${req.path} ${JSON.stringify(req.query)}${opt.detached ? ' detached' : ''}`);
        return undefined;
      }
      const path = String(req.query?.path);
      asked.push(`HEAD ${path}`);
      const stat = stats[path];
      if (stat instanceof Error) throw stat;
      if (stat === undefined) throw Object.assign(new Error('404'), { statusCode: 404 });
      return { 'x-docker-container-path-stat': stat };
    },
  };
  return io;
}

const target = (path: string, base: string, arg = 'HostConfig.Binds[0]'): ProbeTarget => ({
  path,
  arg,
  base,
  below: path.slice(base.length + 1).split('/'),
});
const refusalOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return undefined;
  } catch (e) {
    if (e instanceof ToolError) return e;
    throw e;
  }
};
const REMOVED = 'DELETE /containers/probe1 {"force":true,"v":true} detached';

describe('asking the engine host', () => {
  it('refuses a link at the path, naming the argument, the path, the engine and the target, and removes the probe', async () => {
    const io = fakeEngine({ '/probe/0/x': LINK });
    const e = await refusalOf(probeHostPaths([target('/A/x', '/A')], io, { engine: { name: 'prod' } }));
    expect(e?.kind).toBe('policy_denied');
    expect(e?.message).toBe(
      "HostConfig.Binds[0]: host path '/A/x' is a symbolic link on engine 'prod''s host (to '/etc'), which the engine would follow",
    );
    expect(io.asked.at(-1)).toBe(REMOVED);
  });

  it('refuses a link above the path, and puts a target inside the mount back in host terms', async () => {
    const inside = header({ name: 'l', size: 1, mode: 134218239, mtime: '', linkTarget: '/probe/0/real' });
    const io = fakeEngine({ '/probe/0/a': DIR, '/probe/0/a/l': inside });
    const e = await refusalOf(probeHostPaths([target('/A/a/l/z', '/A')], io, { engine: { name: 'e' } }));
    expect(e?.message).toBe(
      "HostConfig.Binds[0]: host path '/A/a/l/z' passes through '/A/a/l', which is a symbolic link on engine 'e''s host (to '/A/real'), which the engine would follow",
    );
    expect(io.asked).not.toContain('HEAD /probe/0/a/l/z');
  });

  it('stops at a missing component or a file, and asks a shared component once', async () => {
    const io = fakeEngine({ '/probe/0/d': DIR, '/probe/0/f': FILE });
    await probeHostPaths(
      [target('/A/d/new/deeper', '/A'), target('/A/d/other', '/A'), target('/A/f/x', '/A')],
      io,
      { engine: { name: 'e' } },
    );
    expect(io.asked.filter((a) => a.startsWith('HEAD'))).toEqual([
      'HEAD /probe/0/d',
      'HEAD /probe/0/d/new',
      'HEAD /probe/0/d/other',
      'HEAD /probe/0/f',
    ]);
    expect(io.asked.filter((a) => a.startsWith('POST'))).toHaveLength(1);
    expect(io.asked.at(-1)).toBe(REMOVED);
  });

  it('makes one never-started container, read-only, without a network, labelled, detached from the call', async () => {
    const io = fakeEngine({}, { own: { 'web:1': 'sha256:web' } });
    await probeHostPaths([target('/A/x', '/A'), target('/B/y', '/B')], io, {
      engine: { name: 'e' },
      images: ['web:1'],
    });
    expect(io.asked.filter((a) => a.startsWith('POST'))).toEqual(['POST /containers/create detached']);
    expect(io.bodies[0]).toMatchObject({
      Image: 'sha256:web',
      Labels: { 'mcp-docker.probe': '1' },
      NetworkDisabled: true,
      HostConfig: { Binds: ['/A:/probe/0:ro', '/B:/probe/1:ro'], NetworkMode: 'none' },
    });
    expect(io.asked).not.toContain('GET /images/json');
  });

  it("uses any image the engine has when the request's own is missing, and refuses when it has none", async () => {
    const some = fakeEngine({}, { images: ['sha256:other'] });
    await probeHostPaths([target('/A/x', '/A')], some, { engine: { name: 'e' }, images: ['gone:1'] });
    expect(some.bodies[0]).toMatchObject({ Image: 'sha256:other' });

    const none = fakeEngine({}, { images: [] });
    const e = await refusalOf(probeHostPaths([target('/A/x', '/A')], none, { engine: { name: 'e' } }));
    expect(e?.kind).toBe('policy_denied');
    expect(e?.message).toContain("host path '/A/x' lies below allowlist entry '/A'");
    expect(e?.message).toContain('that needs an image on the engine, which has none');
    expect(e?.hint).toContain("bind '/A' itself");
    expect(none.asked.some((a) => !a.startsWith('GET'))).toBe(false);
  });

  it('removes the probe when the engine fails to answer, and refuses rather than guess', async () => {
    const io = fakeEngine({
      '/probe/0/x': Object.assign(new Error('boom'), { statusCode: 500, json: { message: 'boom' } }),
    });
    const e = await refusalOf(probeHostPaths([target('/A/x', '/A')], io, { engine: { name: 'e' } }));
    expect(e?.message).toContain("engine 'e' could not tell what '/A/x' is (boom)");
    expect(io.asked.at(-1)).toBe(REMOVED);

    // A HEAD answer carries no body: the refusal says what could not be answered and what to do, not to retry.
    const empty = fakeEngine({
      '/probe/0/x': Object.assign(new Error('(HTTP code 500) server error -  '), { statusCode: 500 }),
    });
    const h = await refusalOf(probeHostPaths([target('/A/x/y', '/A')], empty, { engine: { name: 'e' } }));
    expect(h?.message).toContain(
      "engine 'e' could not tell what '/A/x' is (HTTP 500, with no reason given): a symbolic-link loop there, or a path it cannot follow, answers so",
    );
    expect(h?.hint).toStartWith("Bind a path that does not pass through '/A/x'; or bind '/A' itself");
    expect(h?.hint).not.toContain('Retry');
    expect(empty.asked.at(-1)).toBe(REMOVED);

    // A connection lost is worth a retry.
    const lost = fakeEngine({ '/probe/0/x': new Error('socket hang up') });
    const l = await refusalOf(probeHostPaths([target('/A/x', '/A')], lost, { engine: { name: 'e' } }));
    expect(l?.message).toContain('(socket hang up)');
    expect(l?.hint).toStartWith('Retry;');

    const noHeader = fakeEngine({ '/probe/0/x': '' });
    expect(
      (await refusalOf(probeHostPaths([target('/A/x', '/A')], noHeader, { engine: { name: 'e' } })))?.kind,
    ).toBe('policy_denied');
    expect(noHeader.asked.at(-1)).toBe(REMOVED);

    const failed = fakeEngine({}, { failCreate: true });
    const c = await refusalOf(probeHostPaths([target('/A/x', '/A')], failed, { engine: { name: 'e' } }));
    expect(c?.message).toContain('(disk full)');
    // Removed by name: a create whose answer was lost may have made it.
    expect(failed.asked.at(-1)).toMatch(/^DELETE \/containers\/mcp-docker-probe-\d+ /);
  });

  it('refuses, before asking anything, a path deeper than the engine can look or more components than one request may ask', async () => {
    const deep = `/A/${Array.from({ length: MAX_DEPTH + 1 }, () => 'd').join('/')}`;
    const io = fakeEngine({});
    const e = await refusalOf(probeHostPaths([target(deep, '/A')], io, { engine: { name: 'e' } }));
    expect(e?.kind).toBe('policy_denied');
    expect(e?.message).toContain(
      `it is ${MAX_DEPTH + 1} components below the entry, and the engine cannot look deeper than ${MAX_DEPTH}`,
    );
    expect(e?.hint).toStartWith(`Bind a path at most ${MAX_DEPTH} components below '/A'`);
    expect(io.asked).toEqual([]);

    // Many paths: counted once per component, shared ones once, refused at the one that passes the cap.
    const paths = Array.from({ length: 30 }, (_, i) =>
      target(`/A/p${i}/${Array.from({ length: 9 }, () => 'd').join('/')}`, '/A', `HostConfig.Binds[${i}]`),
    );
    const many = await refusalOf(probeHostPaths(paths, io, { engine: { name: 'e' } }));
    expect(many?.message).toStartWith('HostConfig.Binds[25]: ');
    expect(many?.message).toContain(`more than ${MAX_PROBED} components below their entries to look at`);
    expect(many?.hint).toContain('Bind fewer or shallower paths in one request');
    expect(io.asked).toEqual([]);
    // Within the cap, and shared prefixes counted once: asked.
    const shared = Array.from({ length: 100 }, (_, i) => target(`/A/d/d/d/x${i}`, '/A'));
    await probeHostPaths(shared, io, { engine: { name: 'e' } });
    expect(io.asked.filter((a) => a.startsWith('HEAD'))).toEqual(['HEAD /probe/0/d']);
  });

  it("refuses on Podman without asking it: its answer follows a link and reports the link's target as the path", async () => {
    const io = fakeEngine({ '/probe/0/x': DIR });
    const e = await refusalOf(
      probeHostPaths([target('/A/x', '/A')], io, { engine: { name: 'pod', podman: true } }),
    );
    expect(e?.kind).toBe('policy_denied');
    expect(e?.message).toContain("engine 'pod' is Podman");
    expect(e?.hint).toContain("bind '/A' itself");
    expect(io.asked).toEqual([]);
  });

  it('removes the probe when the call is cancelled', async () => {
    const cancel = new AbortController();
    const io = fakeEngine({}, { signal: cancel.signal });
    cancel.abort(new Error('cancelled'));
    await expect(probeHostPaths([target('/A/x', '/A')], io, { engine: { name: 'e' } })).rejects.toThrow(
      'cancelled',
    );
    expect(io.asked.filter((a) => a.startsWith('HEAD'))).toEqual([]);
    expect(io.asked.at(-1)).toBe(REMOVED);
  });
});
