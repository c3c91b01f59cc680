/**
 * The names `up` puts into request paths, checked by the engine's rules before it asks the engine
 * anything: each service's image reference and the names of the networks and named volumes it uses,
 * and a container_name the engine could take for a container ID (names.ts: ID_FORM).
 * A `name:` of the file's own such as 'x/../../containers/c/start#' would otherwise reach another
 * endpoint. `docker_compose_config` lists what `up` would refuse here.
 */
import { ToolError } from '../../core/errors.ts';
import { IMAGE_REF_PATTERN, idFormRefusal, NAME_PATTERN } from '../names.ts';
import type { Project } from './load.ts';
import type { Obj } from './normalise.ts';
import { resourceName, serviceImage, serviceNetworks, serviceVolumes } from './spec.ts';

const IMAGE_REF = new RegExp(IMAGE_REF_PATTERN);
const NAME = new RegExp(NAME_PATTERN);

/**
 * The refusal of an object's name that the engine's rule would refuse (networks, volumes, secrets,
 * configs: letters, digits and _ . -), or undefined. `key` is the file's key for it. No colon after
 * the key: the redaction stage would read `secret "api_key": …` as a secret's value and mask it.
 */
export function badName(kind: string, key: string, name: string, where = ''): ToolError | undefined {
  if (NAME.test(name)) return undefined;
  return new ToolError(
    'invalid_argument',
    `${where}${kind} "${key}" is named "${name}", which is not a ${kind} name`,
    {
      hint: `Name it with letters, digits and _ . - (first a letter or digit), as docker ${kind} create does.`,
    },
  );
}

/** Every name each service would be refused for, by service (services without any left out). */
export function nameRefusals(p: Project, services: string[]): Record<string, ToolError[]> {
  const out: Record<string, ToolError[]> = {};
  for (const s of services) {
    const svc = (p.services[s] ?? {}) as Obj;
    const found: ToolError[] = [];
    const image = serviceImage(p, s);
    if (!IMAGE_REF.test(image))
      found.push(
        new ToolError('invalid_argument', `service "${s}": image "${image}" is not an image reference`, {
          hint: 'Write it as [registry/]name[:tag][@digest], such as nginx:1.27 or ghcr.io/org/app:v2.',
        }),
      );
    for (const [kind, keys, defs] of [
      ['network', Object.keys(serviceNetworks(svc)), p.networks],
      ['volume', serviceVolumes(svc), p.volumes],
    ] as const)
      for (const key of keys) {
        const bad = badName(kind, key, resourceName(p.name, key, defs[key]), `service "${s}": `);
        if (bad) found.push(bad);
      }
    // Derived names (<project>-<service>-<n>) hold a '-', so only a container_name can be an ID's form.
    const idForm = idFormRefusal(
      typeof svc.container_name === 'string' ? svc.container_name : undefined,
      `service "${s}": container_name "${svc.container_name}"`,
    );
    if (idForm) found.push(idForm);
    if (found.length) out[s] = found;
  }
  return out;
}

/** Refuses the call with the first name refused, if any. */
export function checkNames(p: Project, services: string[]): void {
  const first = Object.values(nameRefusals(p, services)).flat()[0];
  if (first) throw first;
}
