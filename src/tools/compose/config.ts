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

/** Keys `summary` writes in a form of its own, or leaves out (env_file and label_file are read into others). */
const APART = new Set([
  'image',
  'build',
  'command',
  'entrypoint',
  'ports',
  'volumes',
  'networks',
  'network_mode',
  'depends_on',
  'environment',
  'env_file',
  'label_file',
  'secrets',
  'configs',
  'healthcheck',
  'deploy',
  'restart',
]);

/** A service's secret or config reference as `source[:target]`. */
const ref = (r: Obj) => (r.target === undefined ? str(r.source) : `${str(r.source)}:${str(r.target)}`);

/** Where a top-level secret or config comes from; never its content. */
const origin = (d: Obj) =>
  d.external
    ? 'external'
    : d.file !== undefined
      ? `file ${str(d.file)}`
      : d.environment !== undefined
        ? `environment ${str(d.environment)}`
        : 'content';

const Origin = Type.Object({
  name: Type.String(),
  from: Type.String({ description: 'file PATH, environment VAR, content or external' }),
});

/** `build` as its context alone, or with what else it sets (build args by name). */
function buildOf(b: Obj) {
  const { context, args, ...rest } = b;
  const named = isObj(args) ? Object.keys(args) : [];
  if (Object.keys(rest).length === 0 && named.length === 0) return str(context);
  return { context: str(context), ...rest, ...(named.length > 0 && { args: named }) };
}
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A service as a model reads it: long forms flattened to short text, environment and build arg
 * values left out, and every other key it sets as loaded (user, cap_add, logging, labels…).
 */
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
  const refs = (k: string) => ((s[k] as Obj[] | undefined) ?? []).map(ref);
  const rest = Object.entries(s).filter(([k]) => !APART.has(k) && !k.startsWith('x-'));
  const out: Obj = {
    image: s.image,
    ...(s.build !== undefined && { build: buildOf(s.build as Obj) }),
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
    ...(refs('secrets').length && { secrets: refs('secrets') }),
    ...(refs('configs').length && { configs: refs('configs') }),
    ...Object.fromEntries(rest),
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
    // A list, not a map by name: a secret's name is often secret-named (db-password), and redaction
    // would mask what a map holds under it.
    secrets: Type.Optional(Type.Array(Origin)),
    configs: Type.Optional(Type.Array(Origin)),
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
  // Resolved on the server: its directories, bind sources, build contexts and secret/config files made absolute.
  hostDetails: [
    'working_dir',
    'config_files',
    'services.*.volumes.*:source',
    'services.*.build',
    'secrets.*.from:origin',
    'configs.*.from:origin',
  ],
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
        ...(Object.keys(p.secrets).length > 0 && {
          secrets: Object.entries(p.secrets).map(([name, d]) => ({ name, from: origin(d) })),
        }),
        ...(Object.keys(p.configs).length > 0 && {
          configs: Object.entries(p.configs).map(([name, d]) => ({ name, from: origin(d) })),
        }),
        ...(p.disabled.length > 0 && { disabled: p.disabled }),
        ...(Object.keys(refused).length > 0 && { refused }),
      },
      p.secretValues,
    );
  },
});
