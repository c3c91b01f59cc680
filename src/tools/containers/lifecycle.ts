/** Moving containers between states. Each returns the container's state afterwards. */
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool, type ToolContext } from '../../core/tool.ts';
import { argumentRefused } from '../../docker/errors.ts';
import { checkContainerName, NAME_EXPECTS, NAME_PATTERN } from '../../docker/names.ts';
import { inspectContainer, withContainer } from '../../docker/resolve.ts';
import { ContainerRef } from '../params.ts';
import { stateOf } from './ref.ts';
import { ContainerState } from './rows.ts';

/** 304 Not Modified: already in the asked-for state — success, not an error. */
const ignoreNotModified = (e: unknown) => {
  if ((e as { statusCode?: number }).statusCode !== 304) throw e;
};

/** An engine refusal that only says the container is already where the caller wants it. */
const unlessAlready = (already: RegExp) => (e: unknown) => {
  if (!already.test(String((e as { json?: { message?: string } }).json?.message ?? ''))) throw e;
};

/**
 * The lifecycle family's one shape: resolve the container, act on it (an outcome `tolerate` accepts is
 * success: already in that state), report its state afterwards. The state is read from the container
 * acted on: by the full ID an ID-prefix reference resolved to (no second resolution, which another
 * container could answer), by the name otherwise (two requests, as ever).
 */
const actOn =
  <A extends { container_id: string }>(
    act: (c: Dockerode.Container, args: A, signal: AbortSignal) => Promise<unknown>,
    tolerate: (e: unknown) => void = (e) => {
      throw e;
    },
  ) =>
  async (args: A, { engine: { docker }, signal }: ToolContext) => {
    let actedOn = args.container_id;
    await withContainer(docker, args.container_id, signal, (c) => {
      actedOn = c.id;
      return act(c, args, signal);
    }).catch(tolerate);
    return stateOf(await inspectContainer(docker, actedOn, signal));
  };

type WithTimeout = { container_id: string; timeout?: number };
const t = ({ timeout }: WithTimeout) => (timeout !== undefined ? { t: timeout } : {});

const StopTimeout = Type.Optional(
  Type.Integer({ minimum: 0, maximum: 3600, description: 'Seconds to SIGKILL (default 10)' }),
);

export const startContainer = defineTool({
  name: 'docker_start_container',
  title: 'Start container',
  description: 'Start a created or stopped container.',
  safety: 'moderate',
  idempotent: true,
  input: Type.Object({ container_id: ContainerRef }, { additionalProperties: false }),
  output: ContainerState,
  handler: actOn((c, _args, signal) => c.start({ abortSignal: signal }), ignoreNotModified),
});

export const stopContainer = defineTool({
  name: 'docker_stop_container',
  title: 'Stop container',
  description: 'Stop a container: SIGTERM, then SIGKILL after timeout.',
  safety: 'moderate',
  idempotent: true,
  input: Type.Object({ container_id: ContainerRef, timeout: StopTimeout }, { additionalProperties: false }),
  output: ContainerState,
  timeoutArg: 'timeout',
  handler: actOn<WithTimeout>((c, a, signal) => c.stop({ ...t(a), abortSignal: signal }), ignoreNotModified),
});

export const restartContainer = defineTool({
  name: 'docker_restart_container',
  title: 'Restart container',
  description: 'Restart a container.',
  safety: 'moderate',
  idempotent: false,
  input: Type.Object({ container_id: ContainerRef, timeout: StopTimeout }, { additionalProperties: false }),
  output: ContainerState,
  timeoutArg: 'timeout',
  handler: actOn<WithTimeout>((c, a, signal) => c.restart({ ...t(a), abortSignal: signal })),
});

const SIGNAL_HINT = 'Give a signal name (SIGTERM, TERM, HUP, USR1, RTMIN+1) or number 1-64; default SIGKILL.';

const kill = actOn<{ container_id: string; signal?: string }>((c, a, signal) =>
  c.kill({ signal: a.signal, abortSignal: signal }).catch((e: unknown) => {
    throw argumentRefused(e, 'signal', /signal/i, SIGNAL_HINT) ?? e;
  }),
);

// Linux's signals as the engine names them (without SIG), besides RTMIN+n.
const SIGNALS = new Set(
  'ABRT ALRM BUS CHLD CLD CONT FPE HUP ILL INT IO IOT KILL PIPE POLL PROF PWR QUIT SEGV STKFLT STOP SYS TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ RTMIN RTMAX'.split(
    ' ',
  ),
);

/** Whether the engine knows `s` as a signal: a number 1-64, or a name with or without SIG, any case. */
export function knownSignal(s: string): boolean {
  if (/^\d+$/.test(s)) return Number(s) >= 1 && Number(s) <= 64;
  const name = s.toUpperCase().replace(/^SIG/, '');
  return SIGNALS.has(name) || /^RTMIN\+(?:[1-9]|1[0-5])$/.test(name);
}

export const killContainer = defineTool({
  name: 'docker_kill_container',
  title: 'Kill container',
  description: 'Send a signal to a running container.',
  safety: 'moderate',
  idempotent: false,
  input: Type.Object(
    {
      container_id: ContainerRef,
      signal: Type.Optional(
        Type.String({
          pattern: '^[A-Za-z0-9+]{1,16}$',
          default: 'SIGKILL',
          description: 'e.g. SIGTERM, HUP, 9',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  output: ContainerState,
  handler: (args, ctx) => {
    if (args.signal !== undefined && !knownSignal(args.signal))
      throw new ToolError('invalid_argument', `invalid argument 'signal': '${args.signal}' is not a signal`, {
        hint: SIGNAL_HINT,
      });
    return kill(args, ctx);
  },
});

export const pauseContainer = defineTool({
  name: 'docker_pause_container',
  title: 'Pause container',
  description: "Freeze a running container's processes.",
  safety: 'moderate',
  idempotent: true,
  input: Type.Object({ container_id: ContainerRef }, { additionalProperties: false }),
  output: ContainerState,
  handler: actOn((c, _args, signal) => c.pause({ abortSignal: signal }), unlessAlready(/already paused/i)),
});

export const unpauseContainer = defineTool({
  name: 'docker_unpause_container',
  title: 'Unpause container',
  description: 'Resume a paused container.',
  safety: 'moderate',
  idempotent: true,
  input: Type.Object({ container_id: ContainerRef }, { additionalProperties: false }),
  output: ContainerState,
  // Engine 20.10 answers 500 "is not paused"; nothing to do either way.
  handler: actOn((c, _args, signal) => c.unpause({ abortSignal: signal }), unlessAlready(/is not paused/i)),
});

export const renameContainer = defineTool({
  name: 'docker_rename_container',
  title: 'Rename container',
  description: 'Rename a container.',
  safety: 'moderate',
  idempotent: true,
  input: Type.Object(
    {
      container_id: ContainerRef,
      new_name: Type.String({ pattern: NAME_PATTERN, expects: NAME_EXPECTS, maxLength: 256 }),
    },
    { additionalProperties: false },
  ),
  output: ContainerState,
  handler: async ({ container_id, new_name }, { engine: { docker }, signal }) => {
    checkContainerName(new_name, 'new_name');
    const { Id } = await inspectContainer(docker, container_id, signal);
    await docker
      .getContainer(Id)
      .rename({ name: new_name, abortSignal: signal })
      .catch(unlessAlready(/same name as its current name/i));
    return stateOf(await inspectContainer(docker, Id, signal));
  },
});
