/** Making containers: create, run (create + start, optionally waiting for the output) and update limits. */
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { reword, ToolError } from '../../core/errors.ts';
import type { Limits } from '../../core/limits.ts';
import { defineTool } from '../../core/tool.ts';
import { endpointConfig, type NetworkAttachment } from '../../docker/container-spec.ts';
import { engineError } from '../../docker/errors.ts';
import { type LogSource, logSource, readOutputTail, splitOutput } from '../../docker/logs.ts';
import { checkContainerName, shortId } from '../../docker/names.ts';
import { engineRequest } from '../../docker/request.ts';
import { inspectContainer, withContainer } from '../../docker/resolve.ts';
import { bytes, nanoCpus } from '../../docker/spec-values.ts';
import { ContainerRef } from '../params.ts';
import { stateOf } from './ref.ts';
import {
  CpuShares,
  Cpus,
  type CreateArgs,
  createBody,
  createProperties,
  laterNetworks,
  MemLimit,
  PidsLimit,
  RestartPolicy,
  Size,
} from './spec.ts';

const Warnings = Type.Optional(Type.Array(Type.String()));

const RUN_OPTIONS = [
  'image',
  'name',
  'command',
  'entrypoint',
  'environment',
  'ports',
  'volumes',
  'labels',
  'working_dir',
  'user',
  'network_mode',
  'restart_policy',
  // Compose's options (issue 15), as create takes them.
  'healthcheck',
  'read_only',
  'tmpfs',
  'shm_size',
  'ulimits',
  'init',
  'dns',
  'extra_hosts',
  'networks',
  'stop_signal',
  'stop_grace_period',
] as const;

const pick = <T extends object, K extends keyof T>(o: T, keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, o[k]])) as Pick<T, K>;

export const createContainer = defineTool({
  name: 'docker_create_container',
  title: 'Create container',
  description: 'Create a container from a local image, not started.',
  safety: 'moderate',
  idempotent: false,
  input: Type.Object(createProperties, { additionalProperties: false }),
  output: Type.Object({ id: Type.String(), name: Type.String(), warnings: Warnings }),
  // Env values are where containers take their passwords, whatever the variable is called.
  secretArgs: ['environment'],
  handler: async (args, { engine: { docker }, signal }) => {
    const { id, warnings } = await create(docker, args, signal);
    const { name } = stateOf(await inspectContainer(docker, id, signal));
    return { id: shortId(id), name, ...(warnings.length > 0 && { warnings }) };
  },
});

export const runContainer = defineTool({
  name: 'docker_run_container',
  title: 'Run container',
  description:
    'Create and start a container (more options: docker_create_container); wait: true returns exit_code and output.',
  safety: 'moderate',
  idempotent: false,
  // The options people pass to `docker run`; the rest would double an already long schema in the
  // tool list, and docker_create_container + docker_start_container take them all.
  input: Type.Object(
    {
      ...pick(createProperties, RUN_OPTIONS),
      wait: Type.Optional(Type.Boolean()),
      timeout: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 3600, default: 60, description: 'Wait limit, seconds' }),
      ),
      remove: Type.Optional(Type.Boolean({ description: 'Remove once exited' })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    id: Type.String(),
    name: Type.String(),
    state: Type.Optional(Type.String()),
    exit_code: Type.Optional(Type.Integer()),
    ports: Type.Optional(Type.Array(Type.String(), { description: 'Published: host->container' })),
    stdout: Type.Optional(Type.String()),
    stderr: Type.Optional(Type.String()),
    output_truncated: Type.Optional(Type.Boolean()),
    removed: Type.Optional(Type.Boolean()),
    warnings: Warnings,
  }),
  secretArgs: ['environment'],
  timeoutArg: 'timeout',
  keep: 'tail',
  untrusted: { stdout: 'output of container from {image}', stderr: 'stderr of container from {image}' },
  narrowHint: 'Make the command print less, or run without wait and read the logs.',
  handler: async ({ wait = false, timeout = 60, remove = false, ...args }, { engine, signal, limits }) => {
    const { docker } = engine;
    // A waited run is removed by us after its output is read; AutoRemove would race with that.
    const { id, warnings } = await create(docker, args, signal, !wait && remove);
    const container = docker.getContainer(id);
    const extra = warnings.length > 0 ? { warnings } : {};
    try {
      await container.start({ abortSignal: signal });
    } catch (e) {
      // Nothing half-made is left behind, and the error says so (a run is not a create).
      const removed = await discard(container);
      const base = e instanceof ToolError ? e : engineError(e);
      if (!base || signal.aborted) throw e;
      throw reword(base, (m) =>
        removed
          ? `${m}; the container this call created was removed`
          : `${m}; the container this call created (${shortId(id)}) is left: remove it with docker_remove_container`,
      );
    }
    if (!wait) {
      const info = await container.inspect({ abortSignal: signal }).catch(gone);
      return {
        ...(info ? stateOf(info) : { id: shortId(id), name: args.name ?? '', state: 'removed' }),
        ...extra,
      };
    }
    try {
      const exitCode = await waitForExit(container, timeout, signal);
      const info = await container.inspect({ abortSignal: signal });
      const output = await lastOutput(docker, logSource(info, engine.info()), limits, signal);
      if (remove) await container.remove({ v: true, force: true, abortSignal: signal });
      return { ...stateOf(info), exit_code: exitCode, ...output, ...(remove && { removed: true }), ...extra };
    } catch (e) {
      if (remove) await discard(container);
      throw e;
    }
  },
});

export const updateContainer = defineTool({
  name: 'docker_update_container',
  title: 'Update container',
  description: "Change a container's resource limits or restart policy.",
  safety: 'moderate',
  idempotent: true,
  input: Type.Object(
    {
      container_id: ContainerRef,
      mem_limit: Type.Optional(MemLimit),
      memory_swap: Type.Optional(Size('-1 = unlimited', -1)),
      cpu_shares: Type.Optional(CpuShares),
      cpus: Type.Optional(Cpus),
      pids_limit: Type.Optional(PidsLimit),
      restart_policy: Type.Optional(RestartPolicy),
      maximum_retry_count: Type.Optional(Type.Integer({ minimum: 0, description: 'For on-failure' })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    id: Type.String(),
    name: Type.String(),
    applied: Type.Record(Type.String(), Type.Union([Type.Number(), Type.String()])),
    warnings: Warnings,
  }),
  handler: async ({ container_id, ...a }, { engine: { docker }, signal }) => {
    const memory = bytes(a.mem_limit, 'mem_limit');
    if (memory === 0)
      throw new ToolError(
        'invalid_argument',
        "invalid argument 'mem_limit': 0 would leave the limit as it is (as docker update --memory 0 does); the engine cannot remove a container's memory limit",
        { hint: 'Give a higher limit (e.g. "8g"), or recreate the container without mem_limit.' },
      );
    // A count alone keeps the policy's name: the engine uses a count only with on-failure, and taking
    // it to mean on-failure silently replaced always or unless-stopped.
    const ref =
      a.restart_policy === undefined && a.maximum_retry_count !== undefined
        ? await countOnly(docker, container_id, signal)
        : container_id;
    const policy = a.restart_policy ?? (a.maximum_retry_count !== undefined ? 'on-failure' : undefined);
    const body = Object.fromEntries(
      Object.entries({
        Memory: memory,
        MemorySwap: bytes(a.memory_swap, 'memory_swap'),
        CpuShares: a.cpu_shares,
        NanoCpus: nanoCpus(a.cpus, 'cpus'),
        PidsLimit: a.pids_limit,
        RestartPolicy: policy && { Name: policy, MaximumRetryCount: a.maximum_retry_count ?? 0 },
      }).filter(([, v]) => v !== undefined),
    );
    // Nothing asked: show the current values rather than send an empty update.
    const res: { Warnings?: string[] | null } =
      Object.keys(body).length > 0
        ? await withContainer(docker, ref, signal, (c) => c.update({ ...body, abortSignal: signal }))
        : {};
    const info = await inspectContainer(docker, ref, signal);
    const hc = info.HostConfig;
    const pids = hc.PidsLimit ?? 0;
    const current: Record<string, number | string> = {
      mem_limit: hc.Memory ?? 0,
      memory_swap: hc.MemorySwap ?? 0,
      cpu_shares: hc.CpuShares ?? 0,
      cpus: (hc.NanoCpus ?? 0) / 1e9,
      // The engine stores "no limit" as 0 (or nothing); shown as the -1 the argument takes for it.
      pids_limit: pids > 0 ? pids : -1,
      restart_policy: hc.RestartPolicy?.Name || 'no',
      maximum_retry_count: hc.RestartPolicy?.MaximumRetryCount ?? 0,
    };
    // Either half of the restart policy sets both: both are shown.
    const asked = Object.keys(a).flatMap((k) =>
      k === 'restart_policy' || k === 'maximum_retry_count' ? ['restart_policy', 'maximum_retry_count'] : [k],
    );
    const applied =
      asked.length > 0 ? Object.fromEntries(asked.map((k) => [k, current[k] as number | string])) : current;
    const warnings = res.Warnings ?? [];
    return { ...stateOf(info), applied, ...(warnings.length > 0 && { warnings }) };
  },
});

/**
 * The full ID of the container a retry count alone may update: one whose policy is on-failure.
 * Otherwise refused, naming the policy, as the engine refuses a count with always.
 */
async function countOnly(docker: Dockerode, ref: string, signal: AbortSignal): Promise<string> {
  const info = await inspectContainer(docker, ref, signal);
  const name = info.HostConfig.RestartPolicy?.Name || 'no';
  if (name === 'on-failure') return info.Id;
  throw new ToolError(
    'invalid_argument',
    `invalid argument 'maximum_retry_count': container '${info.Name.replace(/^\//, '')}' restarts '${name}', and the engine uses a retry count only with 'on-failure'`,
    {
      hint: "Pass restart_policy: 'on-failure' with it to switch to on-failure, or leave maximum_retry_count out.",
    },
  );
}

/**
 * Creates through engineRequest rather than `docker.createContainer`: that one drops the engine's
 * warnings and also copies the whole body (environment included) into the query string.
 */
async function create(docker: Dockerode, args: CreateArgs, signal: AbortSignal, autoRemove = false) {
  checkContainerName(args.name, 'name');
  const body = createBody(args);
  const later = laterNetworks(args);
  // Engines before API 1.44 accept a created container's connect to a missing network (start fails
  // later): look them up first, so a wrong name is refused before anything is made.
  for (const [net] of later)
    await engineRequest(docker, { path: `/networks/${encodeURIComponent(net)}`, method: 'GET' }, signal);
  if (autoRemove) body.HostConfig = { ...(body.HostConfig as object), AutoRemove: true };
  try {
    const res = await engineRequest<{ Id: string; Warnings?: string[] | null }>(
      docker,
      { path: '/containers/create', method: 'POST', query: args.name ? { name: args.name } : {}, body },
      signal,
    );
    await joinLaterNetworks(docker, res.Id, later, signal);
    return { id: res.Id, warnings: res.Warnings ?? [] };
  } catch (e) {
    const err = e as { statusCode?: number; json?: { message?: string } };
    if (err.statusCode === 404 && /no such image/i.test(err.json?.message ?? ''))
      throw new ToolError('not_found', `image '${args.image}' is not present locally`, {
        hint: `Pull it first with docker_pull_image (image: '${args.image}'), then call again.`,
      });
    throw e;
  }
}

/** Networks after the first, joined before the container starts; on failure the container goes. */
async function joinLaterNetworks(
  docker: Dockerode,
  id: string,
  networks: [string, NetworkAttachment][],
  signal: AbortSignal,
) {
  try {
    for (const [net, a] of networks)
      await engineRequest(
        docker,
        {
          path: `/networks/${encodeURIComponent(net)}/connect`,
          method: 'POST',
          body: { Container: id, EndpointConfig: endpointConfig(a) },
        },
        signal,
      );
  } catch (e) {
    await discard(docker.getContainer(id));
    throw e;
  }
}

/**
 * Best-effort force removal after a failure, true when the container is gone. Own short deadline: the
 * call's signal may have fired. With AutoRemove the engine may have removed it first (404) or be
 * removing it (409 "removal … already in progress"): gone too, not left.
 */
const discard = (container: Dockerode.Container): Promise<boolean> =>
  container.remove({ force: true, v: true, abortSignal: AbortSignal.timeout(10_000) }).then(
    () => true,
    (e: { statusCode?: number; message?: string }) =>
      e.statusCode === 404 || (e.statusCode === 409 && /already in progress/i.test(String(e.message))),
  );

const gone = (e: unknown) => {
  if ((e as { statusCode?: number }).statusCode === 404) return undefined; // AutoRemove was quicker
  throw e;
};

/** The exit code. On timeout or cancel the container is killed, so a waited run never lingers. */
async function waitForExit(container: Dockerode.Container, seconds: number, signal: AbortSignal) {
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(seconds * 1000)]);
  try {
    const res: { StatusCode: number } = await container.wait({ abortSignal: deadline });
    return res.StatusCode;
  } catch (e) {
    if (!deadline.aborted) throw e;
    await container.kill({ abortSignal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    if (signal.aborted) throw e;
    throw new ToolError('timeout', `container did not exit within ${seconds}s, so it was killed`, {
      hint: 'Raise timeout, or run without wait and read its logs later.',
      retryable: false,
    });
  }
}

/**
 * Last lines of stdout and stderr among the last maxLogLines log entries, together at most
 * maxExecOutputBytes, cut at line starts; output_truncated when either limit may have cut some.
 */
async function lastOutput(docker: Dockerode, src: LogSource, limits: Limits, signal: AbortSignal) {
  const max = limits.maxExecOutputBytes;
  const tail = await readOutputTail(docker, src, limits.maxLogLines, max, signal);
  const { stdout, stderr, truncated } = splitOutput(tail, max);
  return { stdout, stderr, ...((truncated || tail.fullTail) && { output_truncated: true }) };
}
