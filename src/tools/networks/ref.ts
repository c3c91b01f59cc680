/** The network reference parameter, its compact summary, and the engine refusals worth rewording. */
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { CHOSEN_TEXT } from '../../core/schema-marks.ts';
import { NAME_PATTERN, shortId } from '../../docker/names.ts';

// The name goes into the request path: only the characters the engine allows, so '../x' cannot
// reach another endpoint. No listed description: like the engine's API, a name or an ID works.
export const NetworkRef = Type.String({
  minLength: 1,
  expects: 'a network name or ID',
  maxLength: 256,
  pattern: NAME_PATTERN,
});

/** A network's name as the engine reports it: any text its creator chose, so the tool screens it. */
export const NetworkName = (options: { description?: string } = {}) =>
  Type.String({ ...options, ...CHOSEN_TEXT });

/** The engine's own networks: they exist on every engine and cannot be removed. */
export const PREDEFINED = new Set(['bridge', 'host', 'none']);

const nonEmpty = (o: Record<string, string> | undefined | null) =>
  o && Object.keys(o).length > 0 ? o : undefined;

/** The fields people read from a network's inspect document; nothing empty. */
export function networkSummary(n: Dockerode.NetworkInspectInfo) {
  const ipam = (n.IPAM?.Config ?? []).map((c) => ({
    subnet: c.Subnet ?? '',
    ...(c.Gateway && { gateway: c.Gateway }),
    ...(c.IPRange && { ip_range: c.IPRange }),
  }));
  const containers = Object.fromEntries(
    Object.values(n.Containers ?? {}).map((c) => [c.Name, c.IPv4Address.replace(/\/\d+$/, '')]),
  );
  const options = nonEmpty(n.Options);
  const labels = nonEmpty(n.Labels);
  return {
    id: shortId(n.Id),
    name: n.Name,
    driver: n.Driver,
    scope: n.Scope,
    internal: n.Internal,
    attachable: n.Attachable,
    ...(n.EnableIPv6 && { ipv6: true }),
    created: n.Created,
    ipam,
    ...(options && { options }),
    ...(labels && { labels }),
    containers,
  };
}

export const NetworkSummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  driver: Type.String(),
  scope: Type.String(),
  internal: Type.Boolean(),
  attachable: Type.Boolean(),
  ipv6: Type.Optional(Type.Boolean()),
  created: Type.String(),
  ipam: Type.Array(
    Type.Object({
      subnet: Type.String(),
      gateway: Type.Optional(Type.String()),
      ip_range: Type.Optional(Type.String()),
    }),
  ),
  options: Type.Optional(Type.Record(Type.String(), Type.String())),
  labels: Type.Optional(Type.Record(Type.String(), Type.String())),
  containers: Type.Record(Type.String(), Type.String(), { description: 'Running: name → IPv4' }),
});

/**
 * The engine answers 403 Forbidden for state conflicts on networks (active endpoints, an endpoint
 * that already exists, host-mode containers); the generic mapping would call that policy_denied,
 * which points at the server's settings. Reword it as the conflict it is.
 */
export const asConflict = (hint: string) => (e: unknown) => {
  const err = e as { statusCode?: number; json?: { message?: string } };
  if (err.statusCode === 403 && err.json?.message)
    throw new ToolError('conflict', err.json.message, { hint });
  throw e;
};
