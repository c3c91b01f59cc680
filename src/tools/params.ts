/** Parameter fragments shared by every tool, so lists page, filter and window the same way. */
import Type from 'typebox';

export const ContainerRef = Type.String({ minLength: 1, maxLength: 256, description: 'Container name or ID' });

export const All = Type.Optional(Type.Boolean({ description: 'Include stopped containers', default: false }));

export const Filters = Type.Optional(
  Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())]), {
    description: 'Engine filters, e.g. {"status":"exited","label":["app=web"]}',
  }),
);

export const Limit = Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Max rows' }));

export const Full = Type.Optional(Type.Boolean({ description: 'Full engine detail instead of the summary' }));

/** Seconds, RFC 3339, or relative like 10m / 2h / 1d. */
export const TimePoint = (what: string) =>
  Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: `${what}: RFC 3339, unix seconds, or 10m/2h/1d ago` }));

/** Same shape for every list tool's `filters` → the engine's `{key: [values]}`. */
export function engineFilters(filters: Record<string, string | string[]> | undefined): string | undefined {
  if (!filters || Object.keys(filters).length === 0) return undefined;
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(filters)) out[k] = Array.isArray(v) ? v : [v];
  return JSON.stringify(out);
}

/** Short ID as people read it. */
export const shortId = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
