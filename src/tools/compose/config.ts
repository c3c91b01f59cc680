/** docker_compose_config: the resolved model, compactly, and what the safety policy would refuse. */
import Type from 'typebox';
import { defineTool } from '../../core/tool.ts';
import { maskSecrets } from '../../docker/compose/interpolate.ts';
import { checkContainerKeys } from '../../docker/compose/keys.ts';
import { nameRefusals } from '../../docker/compose/names.ts';
import type { Obj } from '../../docker/compose/normalise.ts';
import { projectRefusals } from '../../docker/compose/policy.ts';
import { resourceName, serviceNetworks } from '../../docker/compose/spec.ts';
import { load, projectInput } from './params.ts';

const str = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/** A service as a model reads it: long forms flattened to short text, environment values left out. */
function summary(s: Obj) {
  const ports = ((s.ports as Obj[] | undefined) ?? []).map(
    (p) => `${str(p.host_ip) || '127.0.0.1'}:${str(p.published)}:${str(p.target)}/${str(p.protocol)}`,
  );
  const volumes = ((s.volumes as Obj[] | undefined) ?? []).map(
    (v) => `${v.source ? `${str(v.source)}:` : ''}${str(v.target)}${v.read_only ? ':ro' : ''}`,
  );
  const deps = Object.fromEntries(
    Object.entries((s.depends_on as Record<string, Obj> | undefined) ?? {}).map(([d, o]) => [
      d,
      str(o.condition),
    ]),
  );
  const out: Obj = {
    image: s.image,
    ...(s.build !== undefined && { build: str((s.build as Obj).context) }),
    ...(s.command !== undefined && { command: s.command }),
    ...(s.entrypoint !== undefined && { entrypoint: s.entrypoint }),
    ...(ports.length && { ports }),
    ...(volumes.length && { volumes }),
    ...(s.network_mode === undefined
      ? { networks: Object.keys(serviceNetworks(s)) }
      : { network_mode: s.network_mode }),
    ...(Object.keys(deps).length && { depends_on: deps }),
    ...(s.environment !== undefined && { environment: Object.keys(s.environment as Obj) }),
    ...(s.healthcheck !== undefined && { healthcheck: s.healthcheck }),
    ...(s.deploy !== undefined && { deploy: s.deploy }),
    ...(s.restart !== undefined && { restart: s.restart }),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined));
}

export const composeConfig = defineTool({
  name: 'docker_compose_config',
  title: 'Compose config',
  description:
    'Load, merge, interpolate and check a Compose project; the resolved services and what policy refuses.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object(projectInput, { additionalProperties: false }),
  output: Type.Object({
    name: Type.String(),
    working_dir: Type.String(),
    config_files: Type.Array(Type.String()),
    services: Type.Record(Type.String(), Type.Unknown()),
    networks: Type.Array(Type.String()),
    volumes: Type.Array(Type.String()),
    disabled: Type.Optional(Type.Array(Type.String({ description: 'Off by profile' }))),
    refused: Type.Optional(
      Type.Record(Type.String(), Type.Array(Type.String()), {
        description: 'Every policy refusal, by service',
      }),
    ),
  }),
  secretArgs: ['env'],
  composeArgs: ['content'],
  hostPaths: ['project_dir', 'files'],
  // Resolved on the server: its directories, and bind sources and build contexts made absolute.
  hostDetails: ['working_dir', 'config_files', 'services.*.volumes.*:source', 'services.*.build'],
  handler: async (args, ctx) => {
    const { engine, signal, told } = ctx;
    const p = await load(ctx, args);
    const facts = await engine.resolveFacts(signal).catch(() => engine.facts);
    const services = Object.keys(p.services);
    checkContainerKeys(p, services, engine.apiVersion);
    const names = nameRefusals(p, services);
    const policy = await projectRefusals(engine.docker, facts, p, services);
    const refused = Object.fromEntries(
      services
        .map((s) => [s, [...(names[s] ?? []), ...(policy[s] ?? [])].map(told)] as const)
        .filter(([, messages]) => messages.length > 0),
    );
    const nets = new Set(Object.values(p.services).flatMap((s) => Object.keys(serviceNetworks(s))));
    // A value from a secret-named variable (`command: ["${API_TOKEN}"]`) shows as `***`, as
    // environment values do: a read-only caller sees the model, not the `.env` secrets behind it.
    return maskSecrets(
      {
        name: p.name,
        working_dir: p.workingDir,
        config_files: p.configFiles,
        services: Object.fromEntries(Object.entries(p.services).map(([n, s]) => [n, summary(s)])),
        networks: [...nets].map((k) => resourceName(p.name, k, p.networks[k])),
        volumes: Object.keys(p.volumes).map((k) => resourceName(p.name, k, p.volumes[k])),
        ...(p.disabled.length > 0 && { disabled: p.disabled }),
        ...(Object.keys(refused).length > 0 && { refused }),
      },
      p.secretValues,
    );
  },
});
