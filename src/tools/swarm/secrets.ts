/**
 * Swarm secrets and configs: create, list, inspect, remove. A secret's data is a declared secret
 * argument (never returned, audited, logged or quoted in an error); so are a config's contents,
 * which do come back on inspect, redacted like any other text.
 */
import Type from 'typebox';
import { defineTool } from '../../core/tool.ts';
import { NAME_EXPECTS, NAME_PATTERN } from '../../docker/names.ts';
import {
  type BlobKind,
  createBlob,
  inspectBlob,
  listBlobs,
  removeBlob,
  type SwarmBlob,
} from '../../docker/swarm/secrets.ts';
import { sameAsAsked } from '../asked.ts';
import { FilterMap, Full, Limit, MAX_ARG, StringMap, Total, totalOf } from '../params.ts';

// Names go into the request path: only the characters the engine allows.
const Name = Type.String({ minLength: 1, maxLength: 64, pattern: NAME_PATTERN, expects: NAME_EXPECTS });
const Ref = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: NAME_PATTERN,
  expects: 'a name or ID',
  description: 'Name or ID',
});

const Row = Type.Object({
  id: Type.String(),
  name: Type.String(),
  created: Type.Optional(Type.String()),
  updated: Type.Optional(Type.String()),
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
});

const nonEmpty = (o: Record<string, string> | undefined) => (o && Object.keys(o).length ? o : undefined);

function row(b: SwarmBlob) {
  const labels = nonEmpty(b.Spec.Labels);
  return {
    id: b.ID.slice(0, 12),
    name: b.Spec.Name,
    ...(b.CreatedAt && { created: b.CreatedAt }),
    ...(b.UpdatedAt && b.UpdatedAt !== b.CreatedAt && { updated: b.UpdatedAt }),
    ...(labels && { labels }),
  };
}

const plural = (kind: BlobKind) => `${kind}s`;

function createTool(kind: BlobKind) {
  return defineTool({
    name: `docker_${kind}_create`,
    title: `Create ${kind}`,
    description:
      kind === 'secret'
        ? 'Store a swarm secret (a manager engine). The data is never returned or logged. Returns its ID.'
        : 'Store a swarm config (a manager engine) for services to mount. Returns its ID.',
    safety: 'moderate',
    idempotent: false,
    input: Type.Object(
      {
        name: Name,
        data: Type.String({
          minLength: 1,
          maxLength: MAX_ARG,
          description: kind === 'secret' ? 'The secret value' : 'Contents',
        }),
        labels: StringMap(),
      },
      { additionalProperties: false },
    ),
    output: Type.Object({ id: Type.String(), name: Type.String() }),
    // A config file often holds credentials too: its contents are audited as *** like a secret's.
    secretArgs: ['data'],
    handler: async ({ name, data, labels }, { engine: { docker }, signal }) => ({
      id: await createBlob(docker, kind, { name, data, labels }, signal),
      name,
    }),
  });
}

function listTool(kind: BlobKind) {
  return defineTool({
    name: `docker_${kind}_list`,
    title: `List ${plural(kind)}`,
    description: `List swarm ${plural(kind)}, one compact row each (never ${kind === 'secret' ? 'their data' : 'contents'}).`,
    safety: 'safe',
    idempotent: true,
    input: Type.Object(
      { filters: FilterMap('e.g. {"label":["com.docker.stack.namespace=web"]}'), limit: Limit },
      { additionalProperties: false },
    ),
    output: Type.Object({ [plural(kind)]: Type.Array(Row), count: Type.Integer(), total: Total }),
    narrowHint: 'Use filters (name, label, id) or limit.',
    handler: async ({ filters, limit }, { engine: { docker }, signal, limits }) => {
      const max = Math.min(limit ?? limits.maxListResults, limits.maxListResults);
      const matched = await listBlobs(docker, kind, filters, signal);
      const rows = matched
        .sort((a, b) => a.Spec.Name.localeCompare(b.Spec.Name))
        .slice(0, max)
        .map(row);
      return { [plural(kind)]: rows, count: rows.length, ...totalOf(matched.length, rows.length) };
    },
  });
}

function inspectTool(kind: BlobKind) {
  return defineTool({
    name: `docker_${kind}_inspect`,
    title: `Inspect ${kind}`,
    description:
      kind === 'secret'
        ? "A secret's name, labels, dates and driver; never its data (the engine does not return it)."
        : "A config's name, labels, dates and contents (as text).",
    safety: 'safe',
    idempotent: true,
    input: Type.Object({ [kind]: Ref, full: Full }, { additionalProperties: false }),
    output: Type.Object({}, { additionalProperties: true }),
    handler: async (args, { engine: { docker }, signal }) => {
      const b = await inspectBlob(docker, kind, String(args[kind]), signal);
      if (kind === 'secret') delete b.Spec.Data;
      if (args.full) return b as unknown as Record<string, unknown>;
      return {
        ...row(b),
        id: b.ID,
        ...(b.Spec.Driver && { driver: b.Spec.Driver.Name }),
        ...(b.Spec.Templating && { templating: b.Spec.Templating.Name }),
        ...(kind === 'config' && { data: Buffer.from(b.Spec.Data ?? '', 'base64').toString('utf8') }),
      };
    },
  });
}

function removeTool(kind: BlobKind) {
  return defineTool({
    name: `docker_${kind}_remove`,
    title: `Remove ${kind}`,
    description: `Remove a swarm ${kind} no service uses.`,
    safety: 'destructive',
    idempotent: true,
    input: Type.Object({ [kind]: Ref }, { additionalProperties: false }),
    output: Type.Object({ name: Type.String(), removed: Type.Boolean() }),
    // The question names the object: its name is no secret, though the argument's name reads as one.
    preview: async (args, { engine: { docker }, signal }) => {
      const b = await inspectBlob(docker, kind, String(args[kind]), signal);
      return {
        action: `remove ${kind} '${b.Spec.Name}' (${b.ID.slice(0, 12)})`,
        objects: [`${kind} ${b.Spec.Name}`],
        plan: { id: b.ID },
      };
    },
    handler: async (args, { engine: { docker }, signal, confirmed }) => {
      const b = await inspectBlob(docker, kind, String(args[kind]), signal);
      sameAsAsked(confirmed, 'id', b.ID, `${kind} '${b.Spec.Name}'`, (v) => String(v).slice(0, 12));
      return { name: b.Spec.Name, removed: await removeBlob(docker, kind, b.ID, signal) };
    },
  });
}

export const secretTools = [
  createTool('secret'),
  listTool('secret'),
  inspectTool('secret'),
  removeTool('secret'),
];
export const configTools = [
  createTool('config'),
  listTool('config'),
  inspectTool('config'),
  removeTool('config'),
];
