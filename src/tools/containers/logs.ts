/** Reading a container's logs: the newest lines, a time window, or the lines matching a pattern. */
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { logSource, readLogTail } from '../../docker/logs.ts';
import { inspectContainer } from '../../docker/resolve.ts';
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
    count: Type.Integer(),
    scanned: Type.Optional(Type.Integer({ description: 'Lines read to find the grep matches' })),
    note: Type.Optional(Type.String({ description: 'A limit the request met' })),
  }),
  keep: 'tail',
  untrusted: { lines: 'logs of container {container_id}' },
  narrowHint: 'Use tail, since/until or grep.',
  handler: async (args, { engine, signal, limits }) => {
    const { docker } = engine;
    const { since, until } = timeWindow(args);
    const match = args.grep === undefined ? undefined : await lineMatcher(args.grep, 'grep');
    const wantOut = args.stdout ?? true;
    const wantErr = args.stderr ?? true;
    if (!wantOut && !wantErr)
      throw new ToolError('invalid_argument', 'stdout and stderr are both false: nothing to read', {
        hint: 'Leave one of them true (both are by default).',
      });
    const info = await inspectContainer(docker, args.container_id, signal);
    const asked = args.tail ?? 100;
    const tail = Math.min(asked, limits.maxLogLines);
    // The engine takes its tail before applying `until`, so for a window read all of it and keep
    // the end here. grep searches the newest --max-log-lines lines, as `docker logs | grep | tail`
    // would search them all: `tail` counts matches, not lines searched; only the matches are held.
    // The engine also takes its tail over both streams before leaving one out, so read more for one.
    const oneStream = wantOut !== wantErr && !info.Config.Tty;
    const ask =
      until !== undefined
        ? 'all'
        : match
          ? limits.maxLogLines
          : oneStream
            ? Math.min(limits.maxLogLines, Math.max(tail * 20, tail))
            : tail;
    const { lines, scanned } = await readLogTail(
      docker,
      logSource(info, engine.info()),
      { stdout: wantOut, stderr: wantErr, tail: ask, timestamps: args.timestamps ?? false, since, until },
      { maxLines: tail, maxBytes: 2 * limits.maxResponseBytes + 65_536, match },
      signal,
    );
    const notes = [
      ...(asked > tail ? [`tail ${asked} lowered to ${tail} (--max-log-lines)`] : []),
      // The search ran out of lines before finding `tail` matches: older lines went unsearched.
      ...(match && typeof ask === 'number' && scanned >= ask && lines.length < tail
        ? [
            `searched only the newest ${ask} lines (--max-log-lines); older ones were not searched: give until (and since) to search an earlier stretch`,
          ]
        : []),
    ];
    return {
      container: info.Name.replace(/^\//, ''),
      lines,
      count: lines.length,
      ...(match && { scanned }),
      ...(notes.length > 0 && { note: notes.join('; ') }),
    };
  },
});
