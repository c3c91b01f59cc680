/**
 * In-process calls through the real pipeline against the real engine (DOCKER_HOST), for
 * integration tests: same gate, validation, policy, caps and redaction as the binary.
 */

import { Compile } from 'typebox/compile';
import { loadConfig } from '../../src/config/layers.ts';
import { runtimeOf } from '../../src/config/runtime.ts';
import type { LogFilter } from '../../src/core/fence.ts';
import type { Limits } from '../../src/core/limits.ts';
import { Engine } from '../../src/docker/engine.ts';
import { type EngineHandle, type EngineRegistry, engineRegistry } from '../../src/docker/engines.ts';
import type { SafetyProfile } from '../../src/pipeline/gate.ts';
import { listersOf } from '../../src/pipeline/map-errors.ts';
import type { PolicySettings } from '../../src/pipeline/policy.ts';
import { type Outcome, type PipelineEnv, runPipeline, serverFacts } from '../../src/pipeline/run.ts';
import { declaredOutput, listedTool } from '../../src/tool-listing.ts';
import { catalogue } from '../../src/tools/index.ts';
import { VERSION } from '../../src/version.ts';

// The binary's defaults through the factory main.ts uses, with every tier allowed (tests of the gate
// narrow it). Only DOCKER_HOST and HOME come from the shell: its safety settings never leak in.
const loaded = loadConfig(['--allow-destructive'], {
  DOCKER_HOST: process.env.DOCKER_HOST,
  HOME: process.env.HOME,
});
const base = runtimeOf(loaded.config, loaded.host);
const engine = new Engine(base.engineSettings);

export interface EnvOverrides {
  profile?: Partial<SafetyProfile>;
  policy?: Partial<Omit<PolicySettings, 'dockerSocketPaths'>>;
  limits?: Partial<Limits>;
  timeoutMs?: number;
  logFilter?: LogFilter;
  /** Where registry credentials are read from (default ~/.docker). */
  dockerConfigDir?: string;
  /** Another engine than DOCKER_HOST's, e.g. one at a dead socket to test an outage (registered as the only one). */
  engine?: EngineHandle;
  /** Several engines; wins over `engine`. */
  engines?: EngineRegistry;
}

/** The engine at DOCKER_HOST that every test shares, registered as 'default'. */
export const testEngine = (): Engine => engine;

/** Defaults: every tier allowed (tests of the gate narrow it), the server's default limits. */
export function pipelineEnv(o: EnvOverrides = {}): PipelineEnv {
  const profile: SafetyProfile = { ...base.pipeline.profile, ...o.profile };
  return {
    ...base.pipeline,
    profile,
    policy: { ...base.pipeline.policy, ...o.policy },
    limits: { ...base.pipeline.limits, ...o.limits },
    defaultTimeoutMs: o.timeoutMs ?? base.pipeline.defaultTimeoutMs,
    engines: o.engines ?? engineRegistry([o.engine ?? engine]),
    server: serverFacts(VERSION, profile),
    logFilter: o.logFilter ?? base.pipeline.logFilter,
    // HOME read per call, as the server reads ~/.docker at start: tests swap HOME to swap credentials.
    dockerConfigDir: o.dockerConfigDir ?? `${process.env.HOME ?? base.pipeline.host.home}/.docker`,
  };
}

export interface CallOpts extends EnvOverrides {
  signal?: AbortSignal;
  onProgress?: (p: { progress: number; total?: number; message?: string }) => void;
}

const listers = listersOf(catalogue);
const byName = (name: string) => catalogue.find((t) => t.name === name);

export async function call(name: string, args: unknown = {}, opts: CallOpts = {}): Promise<Outcome> {
  const tool = catalogue.find((t) => t.name === name);
  if (!tool) throw new Error(`no tool named ${name} in the catalogue`);
  const out = await runPipeline(tool, args, pipelineEnv(opts), {
    listers,
    tools: byName,
    signal: opts.signal,
    sendProgress: opts.onProgress,
  });
  if (out.ok) assertMatchesOutputSchema(name, out.data);
  return out;
}

// Every successful result must match the output schema the tool declares, nested fields included, and
// the lean copy clients are told about (older clients reject a result that does not).
const outputCheckers = new Map<string, ReturnType<typeof Compile>[]>();
function assertMatchesOutputSchema(name: string, data: unknown) {
  let checkers = outputCheckers.get(name);
  if (!checkers) {
    const tool = catalogue.find((t) => t.name === name) as (typeof catalogue)[number];
    checkers = [declaredOutput(tool), listedTool(tool).outputSchema].map((s) => Compile(s as never));
    outputCheckers.set(name, checkers);
  }
  for (const [i, checker] of checkers.entries())
    if (!checker.Check(data)) {
      const first = [...checker.Errors(data)][0];
      throw new Error(
        `${name} returned data that does not match its ${i ? 'listed' : 'declared'} output schema at '${first?.instancePath}': ${first?.message}`,
      );
    }
}

/**
 * The data of a successful call; a failed one throws with its message so the test output says why.
 * Every field the tool declares untrusted must come fenced (checked here, for every test); the
 * fences are then taken off so tests can assert the content. `raw: true` keeps them.
 */
export async function callOk<T = Record<string, unknown>>(
  name: string,
  args: unknown = {},
  opts: CallOpts & { raw?: boolean } = {},
): Promise<T> {
  const out = await call(name, args, opts);
  if (!out.ok)
    throw new Error(`${name} failed: ${out.error.kind}: ${out.error.message} (${out.error.hint ?? ''})`);
  const tool = catalogue.find((t) => t.name === name);
  return (opts.raw ? out.data : unfence(name, out.data, tool?.untrusted)) as T;
}

const OPEN = /^<untrusted-([0-9a-z]+) source="[^"]*">$/;

/** Checks and removes the fences of the declared fields (top-level and dotted paths). */
function unfence(name: string, data: Record<string, unknown>, fields: Record<string, string> | undefined) {
  if (!fields) return data;
  const out = structuredClone(data);
  for (const path of Object.keys(fields)) {
    const keys = path.split('.');
    const last = keys.pop() as string;
    const parent = keys.reduce<Record<string, unknown> | undefined>(
      (o, k) => (o?.[k] && typeof o[k] === 'object' ? (o[k] as Record<string, unknown>) : undefined),
      out,
    );
    const v = parent?.[last];
    if (!parent || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    if (typeof v === 'string') {
      const lines = v.split('\n');
      const tag = OPEN.exec(lines[0] ?? '')?.[1];
      if (!tag || lines.at(-1) !== `</untrusted-${tag}>`)
        throw new Error(`${name}: '${path}' is not fenced: ${v.slice(0, 120)}`);
      parent[last] = lines.slice(1, -1).join('\n');
    } else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
      const tag = OPEN.exec(v[0] ?? '')?.[1];
      if (!tag || v.at(-1) !== `</untrusted-${tag}>`)
        throw new Error(`${name}: '${path}' is not fenced: ${JSON.stringify(v.slice(0, 2))}`);
      parent[last] = v.slice(1, -1);
    }
  }
  return out;
}

/** The error of a failed call; a successful one throws. */
export async function callErr(name: string, args: unknown = {}, opts: CallOpts = {}) {
  const out = await call(name, args, opts);
  if (out.ok) throw new Error(`${name} unexpectedly succeeded: ${JSON.stringify(out.data).slice(0, 300)}`);
  return out.error;
}
