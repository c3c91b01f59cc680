/** Parameter fragments shared by every tool, so lists page, filter and window the same way. */
import Type from 'typebox';
import { SHAPE_IN_EXAMPLE } from '../core/schema-marks.ts';
import { CONTAINER_REF_PATTERN } from '../docker/names.ts';

/**
 * A container name or ID. It goes into the request path, so only the characters Docker allows in
 * names: '../images/x' must not reach another endpoint. A leading '/' (as the engine prints names) is fine.
 * Not described in the tool list (20 tools × 26 B): `container_id` takes a name, as in every Docker API.
 */
export const ContainerRef = Type.String({
  minLength: 1,
  expects: 'a container name or ID',
  maxLength: 256,
  pattern: CONTAINER_REF_PATTERN,
});

/**
 * A plugin reference's shape (Docker's reference grammar, loosely): lower-case components of letters and
 * digits joined by '.', '_' or '-', an optional registry port and path, tag and digest. The engine
 * looks up a driver it does not know as a plugin and retries for 15 s before it answers; a name no
 * plugin can have (spaces, control characters, upper case) is refused at once.
 */
const DRIVER_PATTERN =
  '^[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::\\w[\\w.-]{0,127})?(?:@[a-z0-9]+:[a-f0-9]{32,})?$';

/** A volume or network driver: built in ('local', 'bridge', 'overlay') or a plugin ('vieux/sshfs:latest'). */
export const DriverName = (description: string) =>
  Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 256,
      pattern: DRIVER_PATTERN,
      expects: "a driver or plugin name in lower case, e.g. 'local' or 'vieux/sshfs:latest'",
      description,
    }),
  );

export const All = Type.Optional(Type.Boolean({ description: 'Include stopped' }));

// Lengths and counts no real call comes near, so an oversized value, also one inside a list or map,
// is refused naming its path before the engine (which would quote it back) instead of travelling in
// the request. The listed schemas leave them out (lean-schema.ts); validate.ts enforces them.
/** Longest name in a list or short map key: a capability, an alias, a filter name, a mount mode. */
export const MAX_NAME = 256;
/** Longest map key: label, option, build-arg and environment names. */
export const MAX_KEY = 1024;
/** Longest setting or value: paths, label, filter and option values, volume and device specs. */
export const MAX_VALUE = 4096;
/** Longest argv element or environment entry: the kernel's own per-string limit (MAX_ARG_STRLEN). */
export const MAX_ARG = 131_072;
/** Most entries in a list or map of settings: labels, filters, environment, capabilities, mounts. */
export const MAX_ENTRIES = 1000;

/** A map's bounds: key length and entry count (spread into a record's options). */
export const mapBounds = (maxKey = MAX_KEY, minKey = 0) => ({
  propertyNames: { maxLength: maxKey, ...(minKey > 0 && { minLength: minKey }) },
  maxProperties: MAX_ENTRIES,
});

/** A list of strings, each at most `maxLength`, at most MAX_ENTRIES of them. */
export const StringList = (maxLength: number, description?: string) =>
  Type.Optional(Type.Array(Type.String({ maxLength }), { maxItems: MAX_ENTRIES, description }));

/**
 * A map's keys by what may be in them. A map is written as `additionalProperties` with its keys under
 * `propertyNames`, never as Type.Record: that compiles to patternProperties {"^.*$": V}, and `.` does
 * not match a newline, so a key holding one skipped every check on its value.
 */
const mapOf = <V>(value: object, keys: object, options: object) =>
  Type.Unsafe<Record<string, V>>({
    type: 'object',
    ...options,
    propertyNames: keys,
    additionalProperties: value,
  });

/** Label, option and build-arg names: any text but control characters (a newline made a label key). */
export const LABEL_KEY = {
  pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]*$',
  expects: 'text without control characters: no newline, tab or NUL',
};

/** Labels and driver options: string to string, values up to `maxValue` (build args take MAX_ARG). */
export const StringMap = (description?: string, maxValue = MAX_VALUE, minKey = 0) =>
  Type.Optional(
    mapOf<string>(
      { type: 'string', maxLength: maxValue },
      { ...mapBounds(MAX_KEY, minKey).propertyNames, ...LABEL_KEY },
      { maxProperties: MAX_ENTRIES, ...(description !== undefined && { description }) },
    ),
  );

/**
 * An engine filter's name: Docker's are lowercase words (status, label, is-task, node.label, label!).
 * The names themselves are the engine's to know (they grow with its version), and it refuses one it
 * does not know by name; this keeps out what could never be one.
 */
export const FILTER_KEY = {
  pattern: '^[a-z][a-z0-9_.-]*!?$',
  expects: 'a filter name such as label or status: lowercase letters, digits and . _ -',
};

/**
 * Engine filters, a map of string lists; `example` shows that shape, so the tool list carries the
 * example instead of the nested schema (validation still checks it).
 */
export const FilterMap = (example: string) =>
  Type.Optional(
    mapOf<string[]>(
      { type: 'array', items: { type: 'string', maxLength: MAX_VALUE }, maxItems: MAX_ENTRIES },
      { maxLength: MAX_NAME, ...FILTER_KEY },
      { ...SHAPE_IN_EXAMPLE, maxProperties: MAX_ENTRIES, description: example },
    ),
  );

export const Filters = FilterMap('e.g. {"status":["exited"]}');

/** Every prune tool's `filters` (the engine's until/label filters). */
export const PruneFilters = FilterMap('e.g. {"until":["24h"],"label":["env=dev"]}');

// `limit` and `full` are self-explanatory on a list or inspect tool: no description to list.
export const Limit = Type.Optional(Type.Integer({ minimum: 1 }));

/** The whole engine document instead of the compact view. */
export const Full = Type.Optional(Type.Boolean());

/** Seconds, RFC 3339, or relative like 10m / 2h / 1d (the property name, since/until, says which end). */
const timeArg = (description: string) =>
  Type.Optional(Type.String({ minLength: 1, maxLength: 64, description }));
export const TimePoint = timeArg('RFC 3339, unix time, or 10m/2h/1d ago');
/** The window's other end: listed right after `since`, whose description it points to. */
export const TimeEnd = timeArg('As since');

/** Every list tool's `filters`, as the engine takes them. */
export function engineFilters(filters: Record<string, string[]> | undefined): string | undefined {
  return filters && Object.keys(filters).length > 0 ? JSON.stringify(filters) : undefined;
}

/** A list's `total`: the rows that matched, given only when more matched than were returned. */
export const Total = Type.Optional(Type.Integer({ description: 'Rows matched, when more than returned' }));
export const totalOf = (matched: number, returned: number): { total?: number } =>
  matched > returned ? { total: matched } : {};
