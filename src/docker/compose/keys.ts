/**
 * The keys this implementation maps, checked on every file after the specification's schema (which
 * refuses keys it does not know): a key the specification has but we do not map is refused naming
 * the file, the service and the key, rather than silently ignored. `x-` extensions are allowed
 * wherever the specification allows them.
 */
import { ToolError } from '../../core/errors.ts';

const TOP = new Set(['version', 'name', 'services', 'networks', 'volumes', 'secrets', 'configs']);

/** Service keys we map (docs/CONTAINER-SPEC.md); the others of the specification are refused for now. */
export const SERVICE_KEYS = new Set(
  `image build command entrypoint environment env_file ports expose volumes networks network_mode
  depends_on healthcheck restart deploy labels tmpfs shm_size extra_hosts dns dns_search dns_opt init
  stop_signal stop_grace_period user working_dir ulimits sysctls logging profiles extends container_name
  hostname domainname cap_add cap_drop privileged read_only security_opt devices pid ipc userns_mode
  cgroup_parent group_add tty stdin_open pull_policy scale platform mac_address runtime mem_limit
  mem_reservation memswap_limit cpus cpu_shares pids_limit oom_score_adj secrets configs links
  volumes_from label_file`.split(/\s+/),
);

const NETWORK_KEYS = new Set([
  'name',
  'driver',
  'driver_opts',
  'external',
  'internal',
  'attachable',
  'labels',
  'ipam',
  'enable_ipv6',
]);
const VOLUME_KEYS = new Set(['name', 'driver', 'driver_opts', 'external', 'labels']);

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const refuse = (file: string, where: string, key: string, known: Set<string>) =>
  new ToolError('invalid_argument', `${file}: ${where}: key "${key}" is not supported by this server`, {
    hint: `Remove it, or run this project with Docker Compose (supported here: ${[...known].slice(0, 12).join(', ')}…).`,
  });

export function checkKeys(doc: Record<string, unknown>, file: string): void {
  for (const k of Object.keys(doc))
    if (!TOP.has(k) && !k.startsWith('x-')) throw refuse(file, 'top level', k, TOP);
  if (doc.services !== undefined && !isObj(doc.services))
    throw new ToolError('invalid_argument', `${file}: services must be a mapping of service names`, {
      hint: 'Write services: then one key per service.',
    });
  for (const [name, svc] of Object.entries((doc.services as Record<string, unknown>) ?? {})) {
    if (!isObj(svc)) continue;
    for (const k of Object.keys(svc))
      if (!SERVICE_KEYS.has(k) && !k.startsWith('x-'))
        throw refuse(file, `service "${name}"`, k, SERVICE_KEYS);
  }
  for (const [section, keys] of [
    ['networks', NETWORK_KEYS],
    ['volumes', VOLUME_KEYS],
  ] as const)
    for (const [name, v] of Object.entries((doc[section] as Record<string, unknown>) ?? {}))
      if (isObj(v))
        for (const k of Object.keys(v))
          if (!keys.has(k) && !k.startsWith('x-')) throw refuse(file, `${section} "${name}"`, k, keys);
}
