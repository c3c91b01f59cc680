/**
 * Policy fuzzing: generated mount sources and escape options around the blocklist, through the real
 * pipeline, against a recording engine stand-in. The oracle is independent of src/pipeline/policy.ts:
 * every bind source that reaches the engine is resolved here the way the engine would (deepest
 * existing ancestor through symlinks) and must not be, contain or sit under a sensitive host path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { AnyTool } from '../../src/core/tool.ts';
import { runPipeline } from '../../src/pipeline/run.ts';
import { catalogue } from '../../src/tools/index.ts';
import { expectActionableError, fcParams, fuzzTimeout } from '../helpers/fuzz.ts';
import { pipelineEnv } from '../helpers/pipeline.ts';
import { type RecordingEngine, recordingEngine } from '../helpers/recording-engine.ts';

let dir: string;
let rec: RecordingEngine;
const tool = (name: string) => catalogue.find((t) => t.name === name) as AnyTool;

const SENSITIVE_BASES = [
  '/etc',
  '/root',
  '/proc',
  '/sys',
  '/dev',
  '/boot',
  '/run',
  '/var/run',
  '/var/lib/docker',
  '/var/run/docker.sock',
  `${homedir()}/.ssh`,
  `${homedir()}/.docker`,
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'h8-policy-'));
  rec = await recordingEngine(join(dir, 'e.sock'));
  mkdirSync(join(dir, 'project'));
  // Host symlinks pointing where a container must not see.
  symlinkSync('/etc', join(dir, 'to-etc'));
  symlinkSync('/', join(dir, 'to-root'));
  symlinkSync(rec.socketPath, join(dir, 'to-engine-socket'));
  symlinkSync('/var/run', join(dir, 'to-var-run'));
  symlinkSync(join(dir, 'to-etc'), join(dir, 'chain'));
});

afterAll(async () => {
  await rec.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Where the engine would really mount `src` from: realpath of the deepest existing ancestor + the rest. */
function resolveLikeEngine(src: string): string {
  const parts = src.split('/').filter((s) => s !== '' && s !== '.');
  const stack: string[] = [];
  for (const p of parts) {
    if (p === '..') stack.pop();
    else stack.push(p);
  }
  for (let i = stack.length; i >= 0; i--) {
    try {
      const real = realpathSync(`/${stack.slice(0, i).join('/')}`);
      return [real.replace(/\/$/, ''), ...stack.slice(i)].join('/') || '/';
    } catch {
      // not there; try its parent
    }
  }
  return '/';
}

// The home itself is a generator base (as /root when tests run as root) but a root of the policy:
// what is under it is fine unless it is a dot-directory.
const HOME = homedir();
const sensitive = () => [
  ...SENSITIVE_BASES.filter((b) => b !== HOME),
  ...['/usr', '/lib', '/bin', '/sbin'],
  rec.socketPath,
];
const under = (p: string, base: string) => p === base || p.startsWith(`${base}/`);
/** The oracle of the allowlist policy: under home (not a dot-directory, not home itself) or the temp dir, touching nothing sensitive. */
function exposesSensitive(src: string): boolean {
  const real = resolveLikeEngine(src);
  const lower = real.toLowerCase();
  if (lower === '/') return true;
  if (sensitive().some((s) => under(lower, s.toLowerCase()) || under(s.toLowerCase(), lower))) return true;
  const tmp = realpathSync(tmpdir());
  if (under(real, tmp)) return false;
  if (!under(real, HOME) || real === HOME) return true;
  return real.slice(HOME.length + 1).startsWith('.');
}

/** Bind sources in a recorded create body (Binds "src:dst[:mode]"). */
function bindSources(body: string): string[] {
  try {
    const b = JSON.parse(body) as { HostConfig?: { Binds?: string[] } };
    return (b.HostConfig?.Binds ?? []).map((x) => x.slice(0, x.indexOf(':')));
  } catch {
    return [];
  }
}

// ── generators ──────────────────────────────────────────────────────────────────────────────────
const segmentNoise = fc.constantFrom('', '/', '//', '/.', '/./', '/x/..', '/./x/../');
const caseFlip = (s: string, mask: number) =>
  [...s].map((c, i) => ((mask >> (i % 30)) & 1 ? c.toUpperCase() : c)).join('');

/** A path at, under or around a sensitive base, spelled in ways a lexical check might miss. */
const sensitiveSpelling = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(...SENSITIVE_BASES),
      fc.constantFrom(
        'to-etc',
        'to-root/etc',
        'to-root',
        'to-engine-socket',
        'to-var-run',
        'chain',
        'to-root/var/run/docker.sock',
      ),
    ),
    fc.array(segmentNoise, { maxLength: 3 }),
    fc.constantFrom('', '/', '/shadow', '/sub/dir', '/..', '/../etc'),
    fc.nat(),
    fc.boolean(),
  )
  .map(([base, noise, tail, mask, flip]) => {
    const root = base.startsWith('/') ? base : `${dir}/${base}`;
    const spelled = root.replace(/\//g, () => noise[0] ?? '/').replace(/^([^/])/, '/$1');
    const withTail = `${spelled}${noise.slice(1).join('')}${tail}`;
    return flip ? caseFlip(withTail, mask) : withTail;
  });

/** Not absolute: ~, relative, dot paths. */
const relativeSpelling = fc.constantFrom('~', '~/.ssh', '~root', './etc', '../../etc', '.', '..', './');

/** Paths that are fine: inside our project dir. */
const harmless = fc.constantFrom('project', 'project/sub', 'project/./a//b/').map((p) => `${dir}/${p}`);

const mountSource = fc.oneof(sensitiveSpelling, relativeSpelling, harmless);

/** The same source in each way the tools accept a host path. */
const carrier = fc.constantFrom(
  (src: string) => ['docker_run_container', { image: 'x', volumes: [`${src}:/host`] }] as const,
  (src: string) => ['docker_create_container', { image: 'x', volumes: [`${src}:/host:ro`] }] as const,
  (src: string) =>
    ['docker_create_container', { image: 'x', volumes: { [src]: { bind: '/host', mode: 'rw' } } }] as const,
  (src: string) => ['docker_run_container', { image: 'x', volumes: { [src]: '/host' } }] as const,
  (src: string) =>
    ['docker_create_volume', { name: 'vv', driver_opts: { type: 'none', o: 'bind', device: src } }] as const,
  (src: string) =>
    ['docker_create_volume', { name: 'vv', driver_opts: { type: 'overlay', o: `lowerdir=${src}` } }] as const,
  (src: string) => ['docker_build_image', { path: src }] as const,
  (src: string) => ['docker_load_image', { path: src }] as const,
  (src: string) => ['docker_save_image', { images: 'x', path: src }] as const,
);

async function run(name: string, args: Record<string, unknown>, policy = {}) {
  rec.clear();
  const env = pipelineEnv({ engine: rec.engineHandle(), policy, timeoutMs: 10_000 });
  return runPipeline(tool(name), args, env);
}

describe('policy fuzzing: host paths around the allowed roots', () => {
  it(
    'no sensitive host path (by any spelling, case, dots, slashes or host symlink) reaches the engine',
    async () => {
      await fc.assert(
        fc.asyncProperty(mountSource, carrier, async (src, make) => {
          const [name, args] = make(src);
          const out = await run(name, args as Record<string, unknown>);
          if (!out.ok) expectActionableError(out.error);
          for (const r of rec.calls()) {
            for (const s of bindSources(r.body))
              if (exposesSensitive(s))
                throw new Error(`${name}: bind of ${s} (from '${src}') reached the engine`);
            if (name === 'docker_create_volume' && exposesSensitive(src) && src.startsWith('/'))
              throw new Error(`volume over '${src}' reached the engine: ${r.body}`);
          }
          if (exposesSensitive(src) && src.startsWith('/')) {
            expect(out.ok).toBe(false);
            if (!out.ok) expect(out.error.kind).toBe('policy_denied');
            expect(rec.requests).toHaveLength(0);
          }
        }),
        fcParams(300),
      );
    },
    fuzzTimeout(20_000),
  );

  it('relative and ~ host paths are refused as not absolute, before the engine', async () => {
    for (const src of ['~/.ssh', '~', './etc', '../../etc', '.'])
      for (const name of ['docker_run_container', 'docker_build_image']) {
        const args = name === 'docker_build_image' ? { path: src } : { image: 'x', volumes: [`${src}:/h`] };
        const out = await run(name, args);
        expect(out.ok ? 'ok' : out.error.kind).toBe('invalid_argument');
        expect(rec.requests).toHaveLength(0);
      }
  });

  it('the engine’s own socket is refused on the very first call, before any connection was made', async () => {
    const out = await run('docker_run_container', {
      image: 'x',
      volumes: [`${rec.socketPath}:/var/run/docker.sock`],
    });
    expect(out.ok ? 'ok' : out.error.kind).toBe('policy_denied');
    expect(rec.requests).toHaveLength(0);
  });

  it('a path listed in the mount allowlist does reach the engine (the policy is not simply "refuse all")', async () => {
    const allowed = join(dir, 'project');
    const out = await run(
      'docker_create_container',
      { image: 'x', volumes: [`${allowed}:/p`] },
      { mountAllowlist: [allowed] },
    );
    expect(out.ok ? 'ok' : out.error.kind).toBe('not_found'); // the stand-in has no image x
    expect(rec.calls().flatMap((r) => bindSources(r.body))).toContain(allowed);
  });
});

describe('policy fuzzing: escape options', () => {
  const DANGEROUS = ['SYS_ADMIN', 'NET_ADMIN', 'SYS_PTRACE', 'SYS_MODULE', 'ALL', 'DAC_READ_SEARCH', 'BPF'];
  const capSpelling = fc
    .tuple(fc.constantFrom(...DANGEROUS), fc.boolean(), fc.nat(), fc.constantFrom('', ' ', '\t'))
    .map(
      ([cap, prefix, mask, pad]) =>
        `${pad}${caseFlip(`${prefix ? 'CAP_' : ''}${cap}`.toLowerCase(), mask)}${pad}`,
    );

  const escapeOption = fc.oneof(
    fc.array(capSpelling, { minLength: 1, maxLength: 3 }).map((c) => ({ cap_add: ['NET_RAW', ...c] })),
    fc
      .constantFrom('host', 'HOST', ' Host ', 'host\t')
      .chain((h) =>
        fc.constantFrom({ network_mode: h }, { pid_mode: h }, { ipc_mode: h }, { userns_mode: h }),
      ),
    fc.constantFrom(
      { privileged: true },
      { devices: ['/dev/sda'] },
      { devices: ['/dev/mem:/dev/mem:rwm'] },
      { security_opt: ['seccomp=unconfined'] },
      { security_opt: ['seccomp:unconfined'] },
      { security_opt: ['apparmor=unconfined'] },
      { security_opt: ['label=disable'] },
      { security_opt: ['systempaths=unconfined'] },
      { security_opt: ['no-new-privileges=false'] },
      { security_opt: ['SECCOMP = UNCONFINED'] },
      // An inline seccomp profile that allows every syscall is "unconfined" by another name.
      { security_opt: ['seccomp={"defaultAction":"SCMP_ACT_ALLOW"}'] },
    ),
  );

  it('privileged-equivalent options never reach the engine unless explicitly allowed', async () => {
    await fc.assert(
      fc.asyncProperty(
        escapeOption,
        fc.constantFrom('docker_run_container', 'docker_create_container'),
        async (opt, name) => {
          // docker_run_container takes only network_mode of these; the rest go through docker_create_container.
          const target =
            name === 'docker_run_container' && !('network_mode' in opt) ? 'docker_create_container' : name;
          const out = await run(target, { image: 'x', ...opt });
          // A namespace mode with blanks is no one word: refused as malformed before the policy reads it.
          const malformed = Object.values(opt).some((v) => typeof v === 'string' && /\s/.test(v));
          const expected = malformed ? 'invalid_argument' : 'policy_denied';
          if (out.ok || out.error.kind !== expected)
            throw new Error(`${target} with ${JSON.stringify(opt)}: ${out.ok ? 'accepted' : out.error.kind}`);
          if (!malformed) expect(out.error.hint).toContain('SAFETY_ALLOW_PRIVILEGED_CONTAINERS');
          expect(rec.requests).toHaveLength(0);
        },
      ),
      fcParams(150),
    );
  });

  it('with SAFETY_ALLOW_PRIVILEGED_CONTAINERS the same options do reach the engine', async () => {
    const out = await run(
      'docker_create_container',
      { image: 'x', privileged: true, cap_add: ['SYS_ADMIN'] },
      { allowPrivileged: true },
    );
    expect(out.ok ? 'ok' : out.error.kind).toBe('not_found');
    const create = rec.calls().find((r) => r.path.startsWith('/containers/create'));
    expect(JSON.parse(create?.body ?? '{}').HostConfig).toMatchObject({
      Privileged: true,
      CapAdd: ['SYS_ADMIN'],
    });
  });

  it('docker_exec_command with privileged: true is refused before the engine', async () => {
    const out = await run('docker_exec_command', { container_id: 'c1', command: 'id', privileged: true });
    expect(out.ok ? 'ok' : out.error.kind).toBe('policy_denied');
    expect(rec.requests).toHaveLength(0);
  });
});
