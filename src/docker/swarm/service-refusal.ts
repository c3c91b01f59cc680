/**
 * A refused service spec in the caller's words. The engine-boundary guard (src/docker/policy/service.ts)
 * checks the spec the engine will receive and names the engine's field
 * (`TaskTemplate.ContainerSpec.Mounts[0].Source`); that check stays the guarantee. Here only the message
 * changes: docker_service_create/update name the argument the caller wrote (`mounts[0]`), or say the
 * refused part is the service's current (or previous) spec when the call did not write it; a stack
 * names the service and its Compose key, as Compose up does. The hint (the setting that would allow
 * it) is kept. Pure.
 */
import { reword, ToolError } from '../../core/errors.ts';

interface FieldName {
  /** The engine's field, at the start of the refusal; group 1 is the list index, if any. */
  field: RegExp;
  /** The tool argument that writes it (create/update). */
  arg?: string;
  /** The Compose key that writes it (stack deploy). */
  key: string;
}

const FIELDS: FieldName[] = [
  { field: /^TaskTemplate\.ContainerSpec\.Mounts\[(\d+)\](?:\.Source)?/, arg: 'mounts', key: 'volumes' },
  { field: /^TaskTemplate\.ContainerSpec\.CapabilityAdd\[(\d+)\]/, arg: 'cap_add', key: 'cap_add' },
  { field: /^TaskTemplate\.Networks\[(\d+)\]/, arg: 'networks', key: 'networks' },
  { field: /^TaskTemplate\.ContainerSpec\.Privileges/, key: 'security_opt' },
];

const refusal = (e: unknown): e is ToolError => e instanceof ToolError && e.kind === 'policy_denied';

/**
 * A create/update refusal naming the caller's argument (`mounts[0]: host path '/etc' is refused…`)
 * when the call wrote that field; otherwise `elsewhere` leads the engine's name (e.g. "service 'web'
 * as it is now"), since the refused setting was already in the spec the call sends back whole.
 */
export function inArgumentTerms(e: unknown, given: ReadonlySet<string>, elsewhere: string): unknown {
  if (!refusal(e)) return e;
  for (const f of FIELDS) {
    const m = f.field.exec(e.message);
    if (!m || !f.arg || !given.has(f.arg)) continue;
    const at = m[1] === undefined ? f.arg : `${f.arg}[${m[1]}]`;
    // Both wordings (local and remote) start with the engine's field: the policy writes it first.
    const length = m[0].length;
    return reword(e, (t) => `${at}${t.slice(length)}`);
  }
  return reword(e, (t) => `${elsewhere}: ${t}`);
}

/** A stack refusal naming the Compose service and key: `service "worker" (key volumes): …`. */
export function inComposeTerms(e: unknown, service: string, suffix = ''): unknown {
  if (!(e instanceof ToolError)) return e;
  const key = FIELDS.find((f) => f.field.test(e.message))?.key;
  return reword(e, (t) => `service "${service}"${key ? ` (key ${key})` : ''}: ${t}${suffix}`);
}

/** The arguments a create/update call wrote, by name. */
export const givenArgs = (args: object): ReadonlySet<string> =>
  new Set(
    Object.entries(args)
      .filter(([, v]) => v !== undefined)
      .map(([k]) => k),
  );
