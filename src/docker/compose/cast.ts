/**
 * Booleans and integers after interpolation, as Compose casts them: the specification lets
 * `read_only: "${RO:-true}"` or `scale: ${REPLICAS}` be a string, and the engine takes only JSON
 * booleans and numbers (`Number("abc")` would reach it as null, or count no container). A string that
 * is neither is refused here, naming the key (not the value: it may come from a secret).
 */
import { ToolError } from '../../core/errors.ts';
import type { Obj } from './normalise.ts';

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Key paths of booleans: `*` any mapping key, `[]` any list item. */
const SERVICE = [
  'attach',
  'init',
  'oom_kill_disable',
  'privileged',
  'read_only',
  'stdin_open',
  'tty',
  'build.no_cache',
  'build.pull',
  'build.privileged',
  'depends_on.*.restart',
  'depends_on.*.required',
  'env_file.[].required',
  'healthcheck.disable',
  'volumes.[].read_only',
  'volumes.[].bind.create_host_path',
  'volumes.[].volume.nocopy',
].map((p) => ['services', '*', ...p.split('.')]);
const TOP = [
  'networks.*.internal',
  'networks.*.attachable',
  'networks.*.enable_ipv4',
  'networks.*.enable_ipv6',
  'networks.*.external',
  'volumes.*.external',
  'secrets.*.external',
  'configs.*.external',
].map((p) => p.split('.'));
const PATHS = [...SERVICE, ...TOP];

/** Key paths of integers in a service. */
const INTEGERS = [
  'scale',
  'deploy.replicas',
  'deploy.restart_policy.max_attempts',
  'deploy.resources.limits.pids',
  'ulimits.*',
  'ulimits.*.soft',
  'ulimits.*.hard',
  'cpu_count',
  'cpu_percent',
  'cpu_shares',
  'mem_swappiness',
  'oom_score_adj',
  'pids_limit',
  'healthcheck.retries',
  'blkio_config.weight',
  'blkio_config.weight_device.[].weight',
].map((p) => ['services', '*', ...p.split('.')]);

/** Compose's reading of a boolean string (compose-go's toBoolean); undefined when it is none. */
export function booleanOf(s: string): boolean | undefined {
  const v = s.toLowerCase();
  if (['true', 'y', 'yes', 'on'].includes(v)) return true;
  if (['false', 'n', 'no', 'off'].includes(v)) return false;
  return undefined;
}

type Cast = { of: (s: string) => unknown; what: string; hint: string };
const BOOLEAN: Cast = {
  of: booleanOf,
  what: 'a boolean (true or false)',
  hint: 'Set it, or the variable it reads, to true or false.',
};
const INTEGER: Cast = {
  of: (s) => (/^[+-]?\d{1,15}$/.test(s) ? Number(s) : undefined),
  what: 'an integer',
  hint: 'Set it, or the variable it reads, to a whole number.',
};

/** Every boolean- and integer-typed string in an interpolated file cast, in place; `file` names it in a refusal. */
export function castScalars(doc: Obj, file: string): void {
  for (const path of PATHS) visit(doc, path, [], file, BOOLEAN);
  for (const path of INTEGERS) visit(doc, path, [], file, INTEGER);
}

function visit(v: unknown, rest: string[], at: string[], file: string, cast: Cast): void {
  const [k, ...more] = rest;
  if (k === undefined) return;
  const step = (child: unknown, name: string, set: (b: unknown) => void) => {
    if (more.length > 0) visit(child, more, [...at, name], file, cast);
    if (more.length > 0 || typeof child !== 'string') return;
    const b = cast.of(child.trim());
    if (b === undefined)
      throw new ToolError(
        'invalid_argument',
        `${file}: ${[...at, name].join('.').replace(/\.\[/g, '[')}: must be ${cast.what} once interpolated`,
        { hint: cast.hint },
      );
    set(b);
  };
  if (k === '[]') {
    if (Array.isArray(v))
      for (const [i, item] of v.entries())
        step(item, `[${i}]`, (b) => {
          v[i] = b;
        });
    return;
  }
  if (!isObj(v)) return;
  for (const name of k === '*' ? Object.keys(v) : [k])
    if (name in v)
      step(v[name], name, (b) => {
        v[name] = b;
      });
}
