/** Waiting for a container to exit, turn healthy, or print a line. */
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { clean, hasControl } from '../../core/fence.ts';
import { keyLineMasker } from '../../core/redact.ts';
import { defineTool } from '../../core/tool.ts';
import { liveHealth } from '../../docker/containers.ts';
import { statusOf } from '../../docker/errors.ts';
import { eachLine, logSource, openLogs } from '../../docker/logs.ts';
import { inspectContainer } from '../../docker/resolve.ts';
import { cutNote } from '../log-read.ts';
import { ContainerRef } from '../params.ts';
import { lineMatcher } from './match.ts';

const POLL_MS = 500;

export const waitContainer = defineTool({
  name: 'docker_wait_container',
  title: 'Wait for container',
  description: 'Wait until a container exits, turns healthy, or logs a pattern; met:false at timeout.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    {
      container_id: ContainerRef,
      until: Type.Optional(
        Type.Enum(['exited', 'healthy', 'log'], {
          description: "Default 'exited'; 'log' when pattern is given",
        }),
      ),
      pattern: Type.Optional(Type.String({ maxLength: 512, description: "For 'log': text or /regex/" })),
      timeout: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 3600, default: 60, description: 'Seconds' }),
      ),
    },
    { additionalProperties: false },
  ),
  untrusted: { matched_line: 'log line of container {container_id}' },
  output: Type.Object({
    container: Type.String(),
    condition: Type.String(),
    met: Type.Boolean(),
    state: Type.String(),
    exit_code: Type.Optional(Type.Integer()),
    health: Type.Optional(Type.String()),
    restarted: Type.Optional(Type.Boolean({ description: 'It exited, then its restart policy started it' })),
    error: Type.Optional(Type.String()),
    matched_line: Type.Optional(Type.String()),
    note: Type.Optional(Type.String({ description: 'What a log wait did not look at' })),
    waited_ms: Type.Integer(),
  }),
  timeoutArg: 'timeout',
  handler: async ({ container_id, until: asked, pattern, timeout = 60 }, { engine, signal, limits }) => {
    const { docker } = engine;
    // A pattern says what to wait for: a log line, unless another condition is named with it.
    const until = asked ?? (pattern !== undefined ? 'log' : 'exited');
    if (pattern !== undefined && until !== 'log')
      throw new ToolError(
        'invalid_argument',
        `invalid argument 'pattern': it applies to until: 'log', not '${until}'`,
        {
          hint: `Drop pattern to wait until ${until}, or wait with until: 'log'.`,
        },
      );
    const started = Date.now();
    const match = until === 'log' ? await lineMatcher(requirePattern(pattern), 'pattern') : undefined;
    const info = await inspectContainer(docker, container_id, signal);
    const container = docker.getContainer(info.Id);
    // Our deadline fires first (the pipeline's is timeout + 5 s), so running out is an answer, not an error.
    const deadline = AbortSignal.timeout(timeout * 1000);
    const waiting = AbortSignal.any([signal, deadline]);
    // A 404 now: the container was removed while we waited (answered below as state 'removed').
    let removed = false;
    const outlived = (e: unknown) => {
      if (statusOf(e) === 404 && !signal.aborted) removed = true;
      else if (!deadline.aborted || signal.aborted) throw e;
    };

    let matched: string | undefined;
    let cut = 0;
    // The engine's answer to the wait: the exit that ended it, even if a restart policy has started
    // the container again by the time it is inspected below.
    let exit: WaitAnswer | undefined;
    if (until === 'exited') {
      if (info.State.Running)
        exit = await container
          .wait({ condition: 'not-running', abortSignal: waiting })
          .catch((e: unknown) => void outlived(e));
    } else if (until === 'healthy') {
      // Podman reports an empty Health ({ Status: '' }) for a container without a healthcheck.
      if (!info.State.Health?.Status && !hasHealthcheck(info))
        throw new ToolError(
          'invalid_argument',
          `container '${container_id}' has no healthcheck, so it never turns healthy`,
          {
            hint: "Wait with until: 'log' (a readiness line) or 'exited', or recreate it with a healthcheck.",
          },
        );
      await pollHealthy(container, waiting).catch(outlived);
    } else if (match) {
      // Lines of the current run looked at before following new ones: the newest --max-log-lines.
      const since = Math.floor(Date.parse(info.State.StartedAt) / 1000) || 0;
      const query = { tail: limits.maxLogLines, since, follow: true };
      const src = logSource(info, engine.info());
      // Podman sends a followed log's headers only with its first line: the deadline may end the open itself.
      const stream = await openLogs(docker, src, query, waiting).catch((e: unknown) => {
        outlived(e);
        return undefined;
      });
      // A key's lines masked before the match, as docker_container_logs' grep has them.
      const maskKeys = keyLineMasker();
      const found = (raw: string, from: string, wasCut: boolean) => {
        if (wasCut) cut++;
        // Matched as the caller reads it, as docker_container_logs' grep matches.
        const line = maskKeys(hasControl(raw) ? clean(raw) : raw, from);
        if (match(line)) matched = line;
        return matched === undefined ? undefined : false;
      };
      if (stream) await eachLine(stream, info.Config.Tty, found, waiting).catch(outlived);
    }

    const name = info.Name.replace(/^\//, '');
    const now = removed
      ? undefined
      : await inspectContainer(docker, info.Id, signal).catch((e: unknown) => {
          if (statusOf(e) !== 404 && !(e instanceof ToolError && e.kind === 'not_found')) throw e;
        });
    const note =
      until === 'log' && matched === undefined
        ? [
            `looked back over the newest ${limits.maxLogLines} lines of this run (--max-log-lines), then followed new ones`,
            cutNote(cut, 'pattern'),
          ]
            .filter(Boolean)
            .join('; ')
        : undefined;
    // Removed while we waited: the engine's wait answer (if any) still says how it exited.
    if (!now)
      return {
        container: name,
        condition: until,
        met: until === 'exited' ? true : until === 'log' && matched !== undefined,
        state: 'removed',
        ...(exit && { exit_code: exit.StatusCode }),
        ...(exit?.Error?.Message && { error: exit.Error.Message }),
        ...(matched !== undefined && { matched_line: matched }),
        ...(note && { note }),
        waited_ms: Date.now() - started,
      };
    const s = now.State;
    const met =
      until === 'exited'
        ? exit !== undefined || !s.Running
        : until === 'healthy'
          ? s.Health?.Status === 'healthy'
          : matched !== undefined;
    const health = liveHealth(s);
    const exitCode = exit?.StatusCode ?? (!s.Running && s.Status !== 'created' ? s.ExitCode : undefined);
    return {
      container: now.Name.replace(/^\//, ''),
      condition: until,
      met,
      state: s.Status,
      ...(exitCode !== undefined && { exit_code: exitCode }),
      ...(exit && (s.Running || s.Restarting) && { restarted: true }),
      ...(exit?.Error?.Message && { error: exit.Error.Message }),
      ...(health && { health }),
      ...(matched !== undefined && { matched_line: matched }),
      ...(note && { note }),
      waited_ms: Date.now() - started,
    };
  },
});

/** POST /containers/{id}/wait's answer. */
interface WaitAnswer {
  StatusCode: number;
  Error?: { Message?: string } | null;
}

function requirePattern(pattern: string | undefined): string {
  if (pattern) return pattern;
  throw new ToolError(
    'invalid_argument',
    "missing argument 'pattern': until 'log' needs the text to wait for",
    {
      hint: 'Pass pattern as plain text, or /regex/ for a regular expression.',
    },
  );
}

const hasHealthcheck = (info: Dockerode.ContainerInspectInfo) => {
  const test = (info.Config as { Healthcheck?: { Test?: string[] } }).Healthcheck?.Test;
  return Boolean(test?.length && test[0] !== 'NONE');
};

/** Until healthy, or until the container stops (it cannot turn healthy then). */
async function pollHealthy(container: Dockerode.Container, signal: AbortSignal): Promise<void> {
  for (;;) {
    const { State } = await container.inspect({ abortSignal: signal });
    if (State.Health?.Status === 'healthy' || !State.Running) return;
    await sleep(POLL_MS, undefined, { signal });
  }
}
