/**
 * docker_dashboard: the containers of an engine at a glance, with an MCP App view. Hosts that render
 * MCP Apps show the `ui://` resource (rows, sparklines, logs, actions through ordinary tool calls); every
 * other client reads the same result as data, led by a one-line summary.
 */
import Type from 'typebox';
import { CHOSEN_TEXT } from '../../core/schema-marks.ts';
import { defineTool } from '../../core/tool.ts';
import {
  COMPOSE_PROBE,
  DASHBOARD_ACTIONS,
  type Hidden,
  hiddenList,
  LIST_TOOL,
  projectsOf,
  rowOf,
  STATS_TOOL,
  sampleAll,
  summaryOf,
} from './dashboard-data.ts';

/** The view's resource (src/resources/dashboard/): listed and served exactly when this tool is. */
export const DASHBOARD_URI = 'ui://mcp-docker/dashboard.html';

const Row = Type.Object({
  id: Type.String(),
  name: Type.String(),
  image: Type.String(),
  state: Type.String(),
  status: Type.String(),
  health: Type.Optional(Type.String()),
  ports: Type.Optional(Type.Array(Type.String())),
  project: Type.Optional(Type.String({ description: 'Compose project', ...CHOSEN_TEXT })),
  service: Type.Optional(Type.String(CHOSEN_TEXT)),
  cpu_percent: Type.Optional(Type.Number()),
  memory: Type.Optional(Type.Object({ used: Type.Number(), limit: Type.Number(), percent: Type.Number() })),
});

export const dashboard = defineTool({
  name: 'docker_dashboard',
  title: 'Dashboard',
  description:
    'Containers at a glance (state, health, ports, CPU, memory), Compose projects and allowed actions; shown as a live view where supported.',
  safety: 'safe',
  idempotent: true,
  engine: 'optional',
  needsEngines: true,
  needsGate: true,
  ui: { resourceUri: DASHBOARD_URI },
  input: Type.Object(
    {
      all: Type.Optional(Type.Boolean({ default: true, description: 'Include stopped' })),
      stats: Type.Optional(Type.Boolean({ default: true, description: 'Sample CPU and memory' })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    summary: Type.String(),
    containers: Type.Array(Row),
    count: Type.Integer(),
    total: Type.Integer(),
    projects: Type.Optional(
      Type.Array(
        Type.Object({ name: Type.String(CHOSEN_TEXT), containers: Type.Integer(), running: Type.Integer() }),
      ),
    ),
    engines: Type.Optional(
      Type.Array(
        Type.Object({
          name: Type.String(),
          default: Type.Optional(Type.Boolean()),
          read_only: Type.Boolean(),
        }),
      ),
    ),
    actions: Type.Array(Type.String(), { description: 'Tools the caller may call from the view' }),
    hidden: Type.Optional(
      Type.Array(Type.String(), { description: 'Parts left out for this caller, and why' }),
    ),
    sampled_at: Type.String(),
  }),
  narrowHint: 'Pass all: false for running containers only.',
  // Compose labels are any text whoever created the container chose (names are the engine's charset).
  screened: ['containers.*.project', 'containers.*.service', 'projects.*.name'],
  handler: async ({ all, stats }, ctx) => {
    const { engine, engines = [], signal, limits, allows = () => false } = ctx;
    // Only what the caller's own tools would show them on this engine.
    const refusal = ctx.refusal ?? ((name: string) => `${name} is not allowed`);
    const hidden: Hidden = { containers: refusal(LIST_TOOL) };
    if ((stats ?? true) && !hidden.containers) hidden.stats = refusal(STATS_TOOL);
    // A tool that gets every engine is handed no connection: this call's engine is asked here.
    const docker = hidden.containers ? undefined : await engine.client(signal);
    const listed = docker ? await docker.listContainers({ all: all ?? true, abortSignal: signal }) : [];
    const shown = listed.slice(0, limits.maxListResults);
    const running = shown.filter((c) => c.State === 'running').map((c) => c.Id);
    const samples =
      docker && (stats ?? true) && !hidden.stats ? await sampleAll(docker, running, signal) : new Map();
    const grouped = allows(COMPOSE_PROBE);
    const rows = shown.map((c) => rowOf(c, samples.get(c.Id), grouped));
    const projects = projectsOf(rows);
    return {
      summary: summaryOf(rows, projects, listed.length, hidden),
      containers: rows,
      count: rows.length,
      total: listed.length,
      ...(grouped && { projects }),
      ...(engines.length > 1 && {
        engines: engines.map((e) => ({
          name: e.name,
          ...(e.isDefault && { default: true }),
          read_only: e.ceiling.readOnly,
        })),
      }),
      actions: DASHBOARD_ACTIONS.filter((a) => allows(a)),
      ...((hidden.containers || hidden.stats) && { hidden: hiddenList(hidden) }),
      sampled_at: new Date().toISOString(),
    };
  },
});
