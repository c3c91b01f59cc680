/** Resolving a network reference, its compact summary, and the engine refusals worth rewording. */
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { shortId } from '../params.ts';

// The name goes into the request path: only the characters the engine allows, so '../x' cannot
// reach another endpoint. No listed description: like the engine's API, a name or an ID works.
export const NetworkRef = Type.String({
  minLength: 1,
  expects: 'a network name or ID',
  maxLength: 256,
  pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]*$',
});

/** The engine's own networks: they exist on every engine and cannot be removed. */
export const PREDEFINED = new Set(['bridge', 'host', 'none']);

interface Dialer {
  dial(
    options: {
      path: string;
      method: string;
      statusCodes: Record<number, boolean | string>;
      abortSignal: AbortSignal;
    },
    callback: (err: unknown, data: unknown) => void,
  ): void;
}

/**
 * GET /networks/{ref}. Dockerode's Network.inspect never hands the signal to the transport, so
 * this dials directly; a 404 becomes "not found" with close names suggested.
 */
export async function inspectNetwork(
  docker: Dockerode,
  ref: string,
  signal: AbortSignal,
): Promise<Dockerode.NetworkInspectInfo> {
  const modem = docker.modem as Dialer;
  try {
    return await new Promise((resolve, reject) =>
      modem.dial(
        {
          path: `/networks/${encodeURIComponent(ref)}?`,
          method: 'GET',
          statusCodes: { 200: true, 404: 'no such network', 500: 'server error' },
          abortSignal: signal,
        },
        (err, data) => (err ? reject(err) : resolve(data as Dockerode.NetworkInspectInfo)),
      ),
    );
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) throw await notFound(docker, ref, signal);
    throw e;
  }
}

async function notFound(docker: Dockerode, ref: string, signal: AbortSignal): Promise<ToolError> {
  let close: string[] = [];
  try {
    const needle = ref.toLowerCase();
    close = (await docker.listNetworks({ abortSignal: signal }))
      .map((n) => n.Name)
      .filter((n) => n.toLowerCase().includes(needle) || needle.includes(n.toLowerCase()))
      .slice(0, 5);
  } catch {
    // Suggestions are a courtesy; the error stands without them.
  }
  const hint = close.length
    ? `Did you mean ${close.map((n) => `'${n}'`).join(', ')}? List them with docker_list_networks.`
    : 'List them with docker_list_networks.';
  return new ToolError('not_found', `network '${ref}' not found`, { hint });
}

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
