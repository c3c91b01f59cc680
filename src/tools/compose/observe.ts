/** docker_compose_ps, docker_compose_ls and docker_compose_logs. */
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { CHOSEN_TEXT } from '../../core/schema-marks.ts';
import { defineTool } from '../../core/tool.ts';
import { listProjects, projectContainers } from '../../docker/compose/running.ts';
import { L } from '../../docker/compose/spec.ts';
import { portText } from '../../docker/containers.ts';
import { statusOf } from '../../docker/errors.ts';
import { logSource, readLogTail } from '../../docker/logs.ts';
import { lineMatcher } from '../containers/match.ts';
import { cutNote, fitLines, refuseFutureSince } from '../log-read.ts';
import { TimeEnd, TimePoint } from '../params.ts';
import { timeWindow } from '../time.ts';
import { projectName, projectRef } from './params.ts';

const name = (c: { Names?: string[] }) => (c.Names?.[0] ?? '').replace(/^\//, '');
const health = (status: string) =>
  /\((healthy|unhealthy|health: starting)\)/.exec(status)?.[1]?.replace('health: ', '');

export const composePs = defineTool({
  name: 'docker_compose_ps',
  title: 'Compose ps',
  description: "A project's containers: service, number, state, health, ports.",
  safety: 'safe',
  idempotent: true,
  input: Type.Object(projectRef, { additionalProperties: false }),
  output: Type.Object({
    project: Type.String(),
    containers: Type.Array(
      Type.Object({
        name: Type.String(),
        service: Type.String(CHOSEN_TEXT),
        number: Type.Integer(),
        state: Type.String(),
        health: Type.Optional(Type.String()),
        ports: Type.Optional(Type.Array(Type.String())),
      }),
    ),
  }),
  // Service names come from the containers' labels, which whoever created them chose.
  screened: ['containers.*.service'],
  secretArgs: ['env'],
  composeArgs: ['content'],
  hostPaths: ['project_dir', 'files'],
  handler: async (args, ctx) => {
    const { engine, signal } = ctx;
    const project = await projectName(ctx, args);
    const cs = await projectContainers(engine.docker, project, args.services, signal);
    return {
      project,
      containers: cs.map((c) => {
        const h = health(c.Status);
        return {
          name: name(c),
          service: c.Labels[L.service] ?? '',
          number: Number(c.Labels[L.number] ?? 0),
          state: c.State,
          ...(h && { health: h }),
          ...(c.Ports.length > 0 && { ports: c.Ports.map(portText) }),
        };
      }),
    };
  },
});

export const composeLs = defineTool({
  name: 'docker_compose_ls',
  title: 'Compose projects',
  description: 'Compose projects on the engine (ours and Docker Compose’s), with status and config files.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object({}, { additionalProperties: false }),
  output: Type.Object({
    projects: Type.Array(
      Type.Object({
        name: Type.String(CHOSEN_TEXT),
        status: Type.String(),
        config_files: Type.String(CHOSEN_TEXT),
      }),
    ),
  }),
  // Read from any container's labels (anyone's, not only ours or Compose's): any text at all.
  screened: ['projects.*.name', 'projects.*.config_files'],
  // Where each project's files are on the engine host (anyone's projects, the operator's too).
  hostDetails: ['projects.*.config_files'],
  handler: async (_args, { engine, signal }) => ({ projects: await listProjects(engine.docker, signal) }),
});

export const composeLogs = defineTool({
  name: 'docker_compose_logs',
  title: 'Compose logs',
  description: "A project's merged logs, newest kept, each line prefixed by its service (untrusted text).",
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    {
      ...projectRef,
      tail: Type.Optional(Type.Integer({ minimum: 0, default: 100 })),
      since: TimePoint,
      until: TimeEnd,
      grep: Type.Optional(Type.String({ maxLength: 512, description: 'Text or /regex/i' })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    project: Type.String(),
    lines: Type.Array(Type.String()),
    count: Type.Integer({ description: 'Lines returned' }),
    left_out: Type.Optional(
      Type.Integer({ description: 'Lines asked for and found but not returned, for the response limit' }),
    ),
    note: Type.Optional(Type.String({ description: 'A limit the request met' })),
  }),
  keep: 'tail',
  untrusted: { lines: 'logs of compose project' },
  narrowHint: 'Use services, tail, since/until or grep.',
  secretArgs: ['env'],
  composeArgs: ['content'],
  hostPaths: ['project_dir', 'files'],
  handler: async (args, ctx) => {
    const { engine, signal, limits } = ctx;
    const { since, until } = timeWindow(args);
    refuseFutureSince(since, args.since);
    const match = args.grep === undefined ? undefined : await lineMatcher(args.grep, 'grep');
    const project = await projectName(ctx, args);
    const cs = await projectContainers(engine.docker, project, args.services, signal);
    if (cs.length === 0)
      throw new ToolError('not_found', `no containers in project "${project}"`, {
        hint: 'List projects with docker_compose_ls.',
      });
    const tail = Math.min(args.tail ?? 100, limits.maxLogLines);
    // grep searches each container's newest --max-log-lines lines (tail counts matches, as for one container).
    const ask = until !== undefined ? 'all' : match ? limits.maxLogLines : tail;
    let searchedOut = false;
    let found = 0;
    let cut = 0;
    const several = new Set(cs.map((c) => c.Labels[L.service])).size < cs.length;
    const all: [string, string][] = [];
    for (const c of cs) {
      const info = await engine.docker.getContainer(c.Id).inspect({ abortSignal: signal });
      const svc = c.Labels[L.service] ?? name(c);
      const prefix = several ? `${svc}-${c.Labels[L.number]}` : svc;
      const got = await readLogTail(
        engine.docker,
        logSource(info, engine.info()),
        { tail: ask, timestamps: true, since, until },
        // Lines come with the engine's timestamp first (to merge them): the match sees what follows it.
        { maxLines: tail, maxBytes: limits.maxResponseBytes, match },
        signal,
      ).catch((e: unknown) => {
        if (statusOf(e) === 404)
          throw new ToolError('not_found', `container '${name(c)}' was removed while its logs were read`, {
            hint: 'See what is left with docker_compose_ps.',
          });
        throw e;
      });
      found += got.matched;
      cut += got.cut;
      const { lines, scanned } = got;
      // This container had more lines than were searched, and fewer matches than tail.
      if (match && typeof ask === 'number' && scanned >= ask && lines.length < tail) searchedOut = true;
      for (const l of lines) {
        // "[err] " marks stderr before the engine's timestamp; keep the mark, sort on the time.
        const err = l.startsWith('[err] ');
        const body = err ? l.slice(6) : l;
        const sp = body.indexOf(' ');
        all.push([body.slice(0, sp), `${prefix} | ${err ? '[err] ' : ''}${body.slice(sp + 1)}`]);
      }
    }
    all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const fit = fitLines(
      all.slice(-tail).map(([, l]) => l),
      Math.min(found, tail),
      limits,
      'with until (a time before the first line here), or narrow with services or grep',
    );
    const { lines } = fit;
    const notes = [
      ...(searchedOut
        ? [
            `searched only the newest ${ask} lines of each container (--max-log-lines); older ones were not searched: give until (and since) to search an earlier stretch`,
          ]
        : []),
      ...(fit.note ? [fit.note] : []),
      ...(cut > 0 ? [cutNote(cut, match && 'grep') as string] : []),
    ];
    return {
      project,
      lines,
      count: lines.length,
      ...(fit.leftOut > 0 && { left_out: fit.leftOut }),
      ...(notes.length > 0 && { note: notes.join('; ') }),
    };
  },
});
