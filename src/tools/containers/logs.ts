/** Reading a container's logs: the newest lines, a time window, or the lines matching a pattern. */
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { statusOf } from '../../docker/errors.ts';
import { logSource, readLogTail } from '../../docker/logs.ts';
import { inspectContainer } from '../../docker/resolve.ts';
import { cutNote, fitLines, refuseFutureSince } from '../log-read.ts';
import { ContainerRef, TimeEnd, TimePoint } from '../params.ts';
import { timeWindow } from '../time.ts';
import { lineMatcher } from './match.ts';

export const containerLogs = defineTool({
  name: 'docker_container_logs',
  title: 'Container logs',
  description: 'Newest log lines, oldest first (untrusted text); stderr lines start with [err].',
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    {
      container_id: ContainerRef,
      tail: Type.Optional(Type.Integer({ minimum: 0, default: 100 })),
      since: TimePoint,
      until: TimeEnd,
      timestamps: Type.Optional(Type.Boolean()),
      stdout: Type.Optional(Type.Boolean({ default: true })),
      stderr: Type.Optional(Type.Boolean({ default: true })),
      grep: Type.Optional(Type.String({ maxLength: 512, description: 'Text or /regex/i to match' })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    container: Type.String(),
    lines: Type.Array(Type.String()),
    count: Type.Integer({ description: 'Lines returned' }),
    scanned: Type.Optional(Type.Integer({ description: 'Lines read to find the grep matches' })),
    left_out: Type.Optional(
      Type.Integer({ description: 'Lines asked for and found but not returned, for the response limit' }),
    ),
    note: Type.Optional(Type.String({ description: 'A limit the request met' })),
  }),
  keep: 'tail',
  untrusted: { lines: 'logs of container {container_id}' },
  narrowHint: 'Use tail, since/until or grep.',
  handler: async (args, { engine, signal, limits }) => {
    const { docker } = engine;
    const { since, until } = timeWindow(args);
    refuseFutureSince(since, args.since);
    const match = args.grep === undefined ? undefined : await lineMatcher(args.grep, 'grep');
    const wantOut = args.stdout ?? true;
    const wantErr = args.stderr ?? true;
    if (!wantOut && !wantErr)
      throw new ToolError('invalid_argument', 'stdout and stderr are both false: nothing to read', {
        hint: 'Leave one of them true (both are by default).',
      });
    const info = await inspectContainer(docker, args.container_id, signal);
    const name = info.Name.replace(/^\//, '');
    const asked = args.tail ?? 100;
    const tail = Math.min(asked, limits.maxLogLines);
    // The engine takes its tail before applying `until`, so for a window read all of it and keep
    // the end here. grep searches the newest --max-log-lines lines, as `docker logs | grep | tail`
    // would search them all: `tail` counts matches, not lines searched; only the matches are held.
    // The engine also takes its tail over both streams before leaving one out, so read more for one.
    const tty = Boolean(info.Config.Tty);
    const oneStream = wantOut !== wantErr && !tty;
    const ask =
      until !== undefined
        ? 'all'
        : match
          ? limits.maxLogLines
          : oneStream
            ? Math.min(limits.maxLogLines, Math.max(tail * 20, tail))
            : tail;
    const read = await readLogTail(
      docker,
      logSource(info, engine.info()),
      { stdout: wantOut, stderr: wantErr, tail: ask, timestamps: args.timestamps ?? false, since, until },
      // The reader keeps what the response can hold (cleaned text), fitLines then exactly.
      { maxLines: tail, maxBytes: limits.maxResponseBytes, match },
      signal,
    ).catch((e: unknown) => {
      // Inspected a moment ago: a 404 now means it was removed meanwhile.
      if (statusOf(e) === 404)
        throw new ToolError('not_found', `container '${name}' was removed while its logs were read`, {
          hint: 'See what exists with docker_list_containers.',
        });
      throw e;
    });
    const fit = fitLines(read.lines, Math.min(read.matched, tail), limits);
    const { lines } = fit;
    const stream = wantOut ? 'stdout' : 'stderr';
    const cut = cutNote(read.cut, match && 'grep');
    const notes = [
      ...(asked > tail ? [`tail ${asked} lowered to ${tail} (--max-log-lines)`] : []),
      // The search ran out of lines before finding `tail` matches: older lines went unsearched.
      ...(match && typeof ask === 'number' && read.scanned >= ask && read.matched < tail
        ? [
            `searched only the newest ${ask} lines (--max-log-lines); older ones were not searched: give until (and since) to search an earlier stretch`,
          ]
        : []),
      // The engine's tail counts entries of both streams: older lines of this one may be further back.
      ...(oneStream && !match && typeof ask === 'number' && read.matched < tail
        ? [
            `read ${stream} among the newest ${ask} entries of both streams (the engine's tail counts both); older ${stream} lines may exist: give until (and since) to read further back`,
          ]
        : []),
      ...(tty && wantOut !== wantErr
        ? [
            'a TTY container has one stream, read as stdout: stderr:false leaves nothing out, stdout:false reads nothing',
          ]
        : []),
      ...(fit.note ? [fit.note] : []),
      ...(cut ? [cut] : []),
    ];
    return {
      container: name,
      lines,
      count: lines.length,
      ...(match && { scanned: read.scanned }),
      ...(fit.leftOut > 0 && { left_out: fit.leftOut }),
      ...(notes.length > 0 && { note: notes.join('; ') }),
    };
  },
});
