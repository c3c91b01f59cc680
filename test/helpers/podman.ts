/**
 * Suites run against Podman too (`MCP_DOCKER_TEST_ENGINE=podman npm test -- FILES`, and the full run's
 * Podman pass over PODMAN_SUBSET in scripts/test-plan.ts). Where Podman 4.3's Docker-compatible API
 * answers differently than Docker, and the difference is Podman's, not our request's, the test asserts
 * Podman's answer instead, under one of the names below: nothing is skipped. docs/TESTING.md lists the
 * same names with their reasons (a unit test checks that it names each one).
 */

/** This run's engine is Podman (scripts/test.ts sets it with the private Podman service it starts). */
export const ON_PODMAN = process.env.MCP_DOCKER_TEST_ENGINE === 'podman';

/** Each difference: what Podman does instead. */
export const PODMAN_DIFFERS = {
  'no-host-none-networks':
    'Podman has one predefined network, "bridge"; there are no "host" or "none" network objects to list or remove.',
  'none-network-is-fixed':
    'A container created on network none shows no "none" endpoint and Podman refuses to connect it anywhere ("invalid network mode"); the tool says so as a conflict.',
  'address-checked-at-start':
    'Podman accepts a fixed address outside the network\'s subnet when connecting a stopped container (it checks at start), and reports the default network as "podman" inside the container.',
  'prune-keeps-stopped-users':
    "Podman's network prune keeps a network that only stopped containers use; Docker removes it.",
  'volume-quota-options':
    'Podman\'s local volume driver reads "size" in o= as a project quota, which this filesystem (vfs storage) lacks; the test passes another option.',
  'volume-filters-any':
    'Podman 4.3 matches a volume against ANY of several filter conditions where Docker needs ALL; such a list or prune is refused by name (src/docker/podman.ts).',
  'podman-components':
    'Podman\'s /version names its components "Podman Engine", "Conmon" and the OCI runtime, not "Engine".',
  'df-image-names':
    "Podman's /system/df gives a container's image as the image ID, and an image's tags as the bare tag (\"latest\").",
  'event-attributes': 'Podman\'s kill event carries no "signal" attribute.',
  'qualified-image-names':
    "Podman reports a short image name fully qualified (docker.io/mcp-test/busybox:latest, docker.io/library/x:tag) in tags, untag and load results, hints, a container's image and events.",
  'commit-history':
    'Podman records a committed layer as the image\'s command ("/bin/sh") with a small size and a layer ID of its own, not the container\'s command, size 0 and the image ID.',
  'no-tagged-image-prune':
    "Podman's Docker API refuses dangling=false on image prune, so docker_prune_images all: true is refused by name.",
  'default-pids-limit':
    'Podman gives every container a pids limit of 2048 unless told otherwise (Docker: none).',
  'state-wording':
    'Podman words a container-state refusal its own way ("can only kill running containers … container state improper", HTTP 500); it maps to conflict all the same.',
  'init-event': 'Podman emits an "init" event between a container\'s "create" and "start".',
  'exec-events': 'Podman emits one "exec_died" event for an exec, with no "exec_create" or "exec_start".',
  'ports-picked-at-create':
    'Podman picks the host port of a binding without one when the container is created (Docker: when it starts).',
  'binds-with-defaults':
    'Podman lists binds with its default options added (ro,rprivate,rbind) and anonymous volumes among them.',
  'no-container-update':
    "Podman 4.3's Docker API has no /containers/{id}/update (podman update is not exposed there): the tool says so by name.",
  'top-ps-args-without-pid':
    'Podman reads top\'s ps_args as its own format descriptors and answers "-o comm" with no PID column; Docker runs ps and refuses output without one.',
  'top-ps-format':
    'Podman answers top with one joined title ("PID   USER     COMMAND") and each process as one joined string.',
  'no-health-checks-here':
    'Podman runs health checks through systemd timers, which this sandbox lacks: a healthcheck stays "starting".',
  'forced-rmi-removes-containers':
    "Podman's forced image removal also removes the containers using it, running ones included: docker_remove_image refuses it by name.",
  'tail-read-forward':
    'Podman before 4.7 joins a line its log file holds in pieces to the line before it when it reads a tail (podman#19545): the tool reads forward from the second the tail starts instead, which Podman sends a frame at a time (about 2 s for 200,000 lines).',
} as const;

export type PodmanDifference = keyof typeof PODMAN_DIFFERS;

/** True when this run is on Podman and the test must assert Podman's answer for `difference`. */
export const podmanDiffers = (difference: PodmanDifference): boolean =>
  ON_PODMAN && PODMAN_DIFFERS[difference] !== undefined;

/**
 * An image reference as this engine reports it: Podman qualifies a short one (docker.io/library/x:tag for a
 * bare name, docker.io/org/x:tag for one without a registry).
 */
export function reportedImage(name: string): string {
  if (!podmanDiffers('qualified-image-names')) return name;
  const first = name.split('/')[0] ?? '';
  if (!name.includes('/')) return `docker.io/library/${name}`;
  return first.includes('.') || first.includes(':') || first === 'localhost' ? name : `docker.io/${name}`;
}
