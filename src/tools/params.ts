/** Parameter fragments shared by every tool, so lists page, filter and window the same way. */
import Type from 'typebox';
import { SHAPE_IN_EXAMPLE } from '../lean-schema.ts';

/**
 * A container name or ID. It goes into the request path, so only the characters Docker allows in
 * names: '../images/x' must not reach another endpoint. A leading '/' (as the engine prints names) is fine.
 * Not described in the tool list (20 tools × 26 B): `container_id` takes a name, as in every Docker API.
 */
export const ContainerRef = Type.String({
  minLength: 1,
  expects: 'a container name or ID',
  maxLength: 256,
  pattern: '^/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$',
});

export const All = Type.Optional(Type.Boolean({ description: 'Include stopped' }));

/**
 * Engine filters, a map of string lists; `example` shows that shape, so the tool list carries the
 * example instead of the nested schema (validation still checks it).
 */
export const FilterMap = (example: string) =>
  Type.Optional(
    Type.Record(Type.String(), Type.Array(Type.String()), { ...SHAPE_IN_EXAMPLE, description: example }),
  );

export const Filters = FilterMap('e.g. {"status":["exited"]}');

/** Every prune tool's `filters` (the engine's until/label filters). */
export const PruneFilters = FilterMap('e.g. {"until":["24h"],"label":["env=dev"]}');

// `limit` and `full` are self-explanatory on a list or inspect tool: no description to list.
export const Limit = Type.Optional(Type.Integer({ minimum: 1 }));

/** The whole engine document instead of the compact view. */
export const Full = Type.Optional(Type.Boolean());

/** Seconds, RFC 3339, or relative like 10m / 2h / 1d (the property name, since/until, says which end). */
export const TimePoint = Type.Optional(
  Type.String({ minLength: 1, maxLength: 64, description: 'RFC 3339, unix time, or 10m/2h/1d ago' }),
);
/** The window's other end: listed right after `since`, whose description it points to. */
export const TimeEnd = Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'As since' }));

/** Every list tool's `filters`, as the engine takes them. */
export function engineFilters(filters: Record<string, string[]> | undefined): string | undefined {
  return filters && Object.keys(filters).length > 0 ? JSON.stringify(filters) : undefined;
}

/** Short ID as people read it. */
export const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
