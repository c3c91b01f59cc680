/** docker_compose_up and docker_compose_down. */
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { up } from '../../docker/compose/project.ts';
import {
  anonymousVolumes,
  type DownPlan,
  down,
  orphansOf,
  projectContainers,
  projectFilter,
} from '../../docker/compose/running.ts';
import { hostFile } from '../../docker/host-files.ts';
import { parseReference, registryAuth } from '../images/auth.ts';
import { registryFailure } from '../images/progress.ts';
import { builder } from './build.ts';
import { hasModel, load, projectInput, projectName, projectRef } from './params.ts';

const Steps = Type.Array(Type.String({ description: 'object action' }));
const text = (s: { object: string; action: string }) => `${s.object} ${s.action}`;

export const composeUp = defineTool({
  name: 'docker_compose_up',
  title: 'Compose up',
  description:
    'Create or update a project and start it in dependency order; unchanged services are left running. Ports bind 127.0.0.1 unless given.',
  safety: 'moderate',
  idempotent: true,
  input: Type.Object(
    {
      ...projectInput,
      pull: Type.Optional(Type.Enum(['missing', 'always', 'never'], { default: 'missing' })),
      remove_orphans: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({ project: Type.String(), steps: Steps }),
  escalate: { remove_orphans: 'destructive' },
  secretArgs: ['env'],
  composeArgs: ['content'],
  hostPaths: ['project_dir', 'files'],
  timeoutMs: 600_000,
  // Asked about orphans by name when remove_orphans raises the call, with its arguments as otherwise:
  // the Compose content (values masked) is what the person approves running.
  preview: async (args, ctx) => {
    if (!args.remove_orphans) return undefined;
    const { engine, signal } = ctx;
    const p = await load(ctx, args);
    const orphans = orphansOf(p, await projectContainers(engine.docker, p.name, undefined, signal));
    return {
      action: `bring up Compose project '${p.name}' and remove the containers of services its files no longer define`,
      objects: orphans.map((c) => `container ${(c.Names?.[0] ?? c.Id).replace(/^\//, '')} (${c.State})`),
      beyondObjects: true,
      withArgs: true,
      plan: { orphans: orphans.map((c) => c.Id) },
    };
  },
  handler: async (args, ctx) => {
    const { engine, signal, progress, dockerConfigDir, confirmed } = ctx;
    const p = await load(ctx, args);
    // As Compose ("no service selected"): an up that would start nothing is not a success.
    if (Object.keys(p.services).length === 0)
      throw new ToolError('invalid_argument', `project '${p.name}' has no services to start`, {
        hint: p.disabled.length
          ? `Its services are in profiles: enable one with profiles, or name them in services.`
          : 'Define at least one service under services:.',
      });
    // Build contexts pass the host-path rule before anything is made (and again when built).
    for (const s of Object.values(p.services))
      if (s.build)
        await hostFile(
          engine,
          String((s.build as { context: string }).context),
          'build.context',
          'context',
          signal,
        );
    const facts = await engine.resolveFacts(signal).catch(() => engine.facts);
    const steps = await up(engine.docker, facts, p, {
      services: args.services,
      pull: args.pull,
      removeOrphans: args.remove_orphans,
      // A confirmed call removes only the orphans its question named.
      acceptedOrphans:
        confirmed && typeof confirmed === 'object'
          ? ids((confirmed as Record<string, unknown>).orphans)
          : undefined,
      apiVersion: engine.apiVersion,
      build: builder(engine, signal),
      // The same credentials docker_pull_image uses: Docker config, credential helpers.
      auth: (image, s) => registryAuth(parseReference(image).registry, undefined, s, dockerConfigDir),
      pullFailure: (e, image) =>
        registryFailure(e, `pull of ${image}`, parseReference(image).registry, { authArgument: false }),
      progress,
      signal,
      engine: { name: engine.name, podman: engine.info()?.kind === 'podman' },
    });
    return { project: p.name, steps: steps.map(text) };
  },
});

const ids = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/** The accepted question's objects (sealed with it), when the down was confirmed. */
function downPlanOf(confirmed: unknown): DownPlan | undefined {
  if (!confirmed || typeof confirmed !== 'object') return undefined;
  const p = confirmed as Record<string, unknown>;
  return { containers: ids(p.containers), networks: ids(p.networks), volumes: ids(p.volumes) };
}

export const composeDown = defineTool({
  name: 'docker_compose_down',
  title: 'Compose down',
  description:
    "Stop and remove a project's containers and networks; its volumes only with volumes: true. Never images.",
  safety: 'destructive',
  idempotent: true,
  input: Type.Object(
    {
      ...projectRef,
      volumes: Type.Optional(Type.Boolean({ description: 'Named and anonymous' })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({ project: Type.String(), steps: Steps }),
  // Down finds the project by its labels: service and network names there are anyone's text.
  screened: ['steps'],
  secretArgs: ['env'],
  composeArgs: ['content'],
  hostPaths: ['project_dir', 'files'],
  timeoutMs: 300_000,
  // The confirmation question names what down takes: the project's containers, networks, and volumes if asked.
  preview: async (args, ctx) => {
    const { engine, signal } = ctx;
    const { docker } = engine;
    const name = await projectName(ctx, args);
    const filters = projectFilter(name);
    const [cs, ns, vs] = await Promise.all([
      docker.listContainers({ all: true, filters, abortSignal: signal }),
      docker.listNetworks({ filters, abortSignal: signal }),
      args.volumes ? docker.listVolumes({ filters, abortSignal: signal }) : undefined,
    ]);
    // With volumes, also the anonymous volumes of its containers (an image's VOLUME, `volumes: ["/data"]`).
    const anonymous = args.volumes ? await anonymousVolumes(docker, cs, signal) : [];
    return {
      action: `take down Compose project '${name}'${args.volumes ? ' with its named and anonymous volumes and their data' : ''}`,
      objects: [
        ...cs.map((c) => `container ${(c.Names?.[0] ?? c.Id).replace(/^\//, '')} (${c.State})`),
        ...(ns ?? []).map((n) => `network ${n.Name}`),
        ...(vs?.Volumes ?? []).map((v) => `volume ${v.Name}`),
        ...anonymous.map((v) => `volume ${v} (anonymous)`),
      ],
      plan: {
        containers: cs.map((c) => c.Id),
        networks: (ns ?? []).map((n) => n.Id),
        volumes: [...(vs?.Volumes ?? []).map((v) => v.Name), ...anonymous],
      } satisfies DownPlan,
    };
  },
  handler: async (args, ctx) => {
    const { engine, signal, progress, confirmed } = ctx;
    // Given the files, their depends_on orders the stops (a project Compose v1 made has no such label).
    const model = hasModel(args) ? await load(ctx, args) : undefined;
    const name = model?.name ?? (await projectName(ctx, args));
    const dependsOn =
      model &&
      Object.fromEntries(
        Object.entries(model.services).map(([s, svc]) => [s, Object.keys((svc.depends_on as object) ?? {})]),
      );
    const only = downPlanOf(confirmed);
    const steps = await down(engine.docker, name, {
      volumes: args.volumes,
      signal,
      progress,
      only,
      dependsOn,
    });
    return { project: name, steps: steps.map(text) };
  },
});
