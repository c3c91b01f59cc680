/** Running a command inside a running container. */
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { fromWholeLine } from '../../core/cut.ts';
import { type Quote, ToolError } from '../../core/errors.ts';
import { clean } from '../../core/fence.ts';
import { defineTool } from '../../core/tool.ts';
import { engineError } from '../../docker/errors.ts';
import { type OutputTail, tailOutput } from '../../docker/logs.ts';
import { withContainer } from '../../docker/resolve.ts';
import { envEntries } from '../../docker/spec-values.ts';
import { TailBytes } from '../../docker/streams.ts';
import { ContainerRef, MAX_VALUE } from '../params.ts';
import { Argv, Environment } from './spec.ts';

/** Text piped to the command: the size of a file the caller could write with docker_copy_to_container. */
const MAX_STDIN = 1_048_576;

const notRunning = (ref: string, why: string) =>
  new ToolError('conflict', `cannot exec in container '${ref}': ${why}`, {
    hint: /paused/i.test(why)
      ? 'Unpause it with docker_unpause_container, then retry.'
      : 'Start it with docker_start_container, then retry.',
  });

// How to run a long command, on any image: the shell's `&` (minimal images have no nohup), its output
// to a file so the exec returns at once.
const BACKGROUND =
  'start a long command in the background with its output in a file (command: "cmd > /tmp/cmd.log 2>&1 &") and read the file later (cat /tmp/cmd.log)';

export const execCommand = defineTool({
  name: 'docker_exec_command',
  title: 'Run command in container',
  description: 'Run a command in a running container: exit_code and untrusted stdout, stderr.',
  safety: 'moderate',
  idempotent: false,
  input: Type.Object(
    {
      container_id: ContainerRef,
      command: Argv('String for /bin/sh -c, or argv'),
      workdir: Type.Optional(Type.String({ maxLength: MAX_VALUE })),
      user: Type.Optional(Type.String({ maxLength: MAX_VALUE, description: 'user[:group]' })),
      environment: Type.Optional(Environment),
      privileged: Type.Optional(Type.Boolean()),
      timeout: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 3600, default: 30, description: 'Seconds' }),
      ),
      stdin: Type.Optional(Type.String({ maxLength: MAX_STDIN })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    exit_code: Type.Union([Type.Integer(), Type.Null()]),
    stdout: Type.String(),
    stderr: Type.String(),
    truncated_bytes: Type.Optional(Type.Integer({ description: 'Output bytes dropped from the front' })),
  }),
  // stdin is how a password reaches a command (--password-stdin, chpasswd); env values hold them too.
  secretArgs: ['stdin', 'environment'],
  timeoutArg: 'timeout',
  keep: 'tail',
  untrusted: { stdout: 'output of exec in {container_id}', stderr: 'stderr of exec in {container_id}' },
  narrowHint: 'Filter the output in the command itself (grep, head, tail).',
  handler: async (args, { engine: { docker }, signal, limits }) => {
    const { container_id, command, timeout = 30, stdin } = args;
    if (typeof command === 'string' ? !command.trim() : command.length === 0)
      throw new ToolError('invalid_argument', "invalid argument 'command': it is empty", {
        hint: 'Give the command to run, as a string for /bin/sh -c or as argv.',
      });
    const env = envEntries(args.environment ?? []);
    const exec = await withContainer(docker, container_id, signal, (c) =>
      c.exec({
        Cmd: typeof command === 'string' ? ['/bin/sh', '-c', command] : command,
        AttachStdin: stdin !== undefined,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        ...(args.workdir && { WorkingDir: args.workdir }),
        ...(args.user && { User: args.user }),
        ...(env.length > 0 && { Env: env }),
        ...(args.privileged && { Privileged: true }),
        abortSignal: signal,
      }),
    ).catch((e) => {
      const message = (e as { json?: { message?: string } }).json?.message ?? '';
      // Docker answers 409; Podman 500 'container state improper' (errors.ts maps both to conflict).
      if (engineError(e)?.kind === 'conflict')
        throw notRunning(container_id, message.replace(/^container \S+ /i, '') || 'it is not running');
      throw e;
    });

    // Our own deadline: the pipeline's is `timeout` + 5 s, and a timeout should say what ran out.
    const deadline = AbortSignal.timeout(timeout * 1000);
    const run = AbortSignal.any([signal, deadline]);
    const output: OutputTail = {
      stdout: new TailBytes(limits.maxExecOutputBytes),
      stderr: new TailBytes(limits.maxExecOutputBytes),
    };
    // A shutdown or the pipeline's timeout answers at once with the signal's reason: it says what ran.
    const onAbort = () => soFar(signal.reason, output);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const stream = (await exec.start({
        hijack: stdin !== undefined,
        stdin: stdin !== undefined,
        abortSignal: run,
      })) as Duplex;
      if (stdin !== undefined) stream.end(stdin); // half-close: the process sees end of input
      await tailOutput(stream, false, limits.maxExecOutputBytes, run, output);
    } catch (e) {
      if (deadline.aborted && !signal.aborted)
        throw soFar(
          new ToolError('timeout', `command did not finish within ${timeout} s`, {
            hint: `Raise timeout (max 3600), or ${BACKGROUND}.`,
          }),
          output,
        );
      if (!signal.aborted && engineError(e)?.kind === 'engine_unreachable') throw lostMidExec(e);
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }

    const { stdout, stderr } = output;
    // The engine ends the output when the command exits: an end while it still runs is a lost connection.
    const code = await exitCode(exec, signal).catch((e: unknown) => {
      throw !signal.aborted && engineError(e)?.kind === 'engine_unreachable' ? lostMidExec(e) : e;
    });
    if (code === RUNNING) throw lostMidExec(undefined, stdout.total + stderr.total);
    const dropped = stdout.dropped + stderr.dropped;
    return {
      exit_code: code,
      stdout: stdout.text(),
      stderr: stderr.text(),
      ...(dropped > 0 && { truncated_bytes: dropped }),
    };
  },
});

/** Characters of each stream's newest output an unfinished exec's error quotes. */
const SO_FAR_CHARS = 240;

/**
 * `reason` (the error an unfinished exec answers: its own timeout, the pipeline's, a shutdown) made to
 * say that the command may still be running, with the newest output read so far quoted (screened and
 * redacted as an error's quote is), the best clue to why it hangs; not retryable, as running it again
 * would run it twice. Changes the error in place: the pipeline may already hold it as the signal's
 * reason. Anything else is returned as it is.
 */
function soFar(reason: unknown, output: OutputTail): unknown {
  if (!(reason instanceof ToolError) || reason.quote) return reason;
  const newest = (t: TailBytes, mark: string) => {
    const text = t.text();
    return (text.length > SO_FAR_CHARS ? fromWholeLine(text.slice(-SO_FAR_CHARS)) : text)
      .split('\n')
      .map((l) => clean(l).trim())
      .filter(Boolean)
      .map((l) => `${mark}${l}`);
  };
  // Each line a string literal: the quote is one line, where a secret's bare value would otherwise
  // run on, and be masked, to its end; in quotes it ends with its own line.
  const lines = [...newest(output.stdout, ''), ...newest(output.stderr, '[err] ')];
  const told = reason as { message: string; hint?: string; retryable: boolean; quote?: Quote };
  const none =
    output.stdout.total + output.stderr.total === 0
      ? '; it printed nothing yet'
      : "; its newest output is not quoted (blank, or a private key's lines)";
  told.message = `${reason.message}. The command may still be running in the container${lines.length ? '' : none}`;
  told.hint = `${reason.hint ? `${reason.hint} ` : ''}See with docker_container_top whether it still runs before running it again.`;
  told.retryable = false;
  if (lines.length)
    told.quote = { by: 'its newest output', text: lines.map((l) => JSON.stringify(l)).join('\n') };
  return reason;
}

/** exitCode()'s answer for a command still running a second after its output ended. */
const RUNNING = Symbol('running');

/**
 * The engine may report the exec as running for a moment after its output ends; still running
 * after a second, its output did not end with it (RUNNING). Null when the engine gives no code.
 */
async function exitCode(exec: Dockerode.Exec, signal: AbortSignal): Promise<number | null | typeof RUNNING> {
  for (let i = 0; i < 20; i++) {
    const info = await exec.inspect({ abortSignal: signal });
    if (!info.Running) return info.ExitCode ?? null;
    await sleep(50, undefined, { signal });
  }
  return RUNNING;
}

/**
 * The connection to the engine was lost while the command ran (`cause`, or an output stream that
 * ended while it still runs): no exit code, and the output read (`read` bytes) is not all of it, so
 * none is returned. Not retryable as is: the command may still be running.
 */
function lostMidExec(cause: unknown, read?: number): ToolError {
  const detail =
    cause === undefined
      ? 'its output ended while the command was still running'
      : (engineError(cause)?.message ?? 'lost the connection to the Docker engine');
  const partial = read ? `; the ${read} bytes of output read before that are not returned` : '';
  return new ToolError(
    'engine_unreachable',
    `the connection to the engine was lost mid-exec: ${detail}${partial}. The command may still be running in the container.`,
    {
      hint: `See with docker_container_top whether it still runs before running it again; ${BACKGROUND}.`,
      retryable: false,
    },
  );
}
