/**
 * Compose YAML as the audit log and the confirmation question show it: the structure, keys, service
 * names, images, ports, mounts and commands stay; every other value is masked. An allowlist of the
 * places that carry no secrets, not a list of the ones that do: environment values, build args,
 * inline secret and config `content`, logging options, `x-` extensions (where anchors are written)
 * and anything this list does not know are masked where they are written, so an alias cannot bring
 * them out. Commands, healthchecks and labels stay, as docker_run_container shows them (the redactor
 * still masks secret-looking parts). Text that is not YAML is masked whole.
 */
import { isPair, isScalar, parseDocument, Scalar, visit } from 'yaml';
import { MASK } from '../../core/redact.ts';

/** Service keys whose values are shown. */
const SERVICE_SHOWN = new Set([
  'image',
  'container_name',
  'hostname',
  'domainname',
  'ports',
  'expose',
  'restart',
  'network_mode',
  'networks',
  'depends_on',
  'volumes',
  'volumes_from',
  'links',
  'external_links',
  'profiles',
  'platform',
  'pull_policy',
  'user',
  'working_dir',
  'init',
  'read_only',
  'stop_signal',
  'stop_grace_period',
  'cap_add',
  'cap_drop',
  'privileged',
  'security_opt',
  'devices',
  'mem_limit',
  'memswap_limit',
  'mem_reservation',
  'cpus',
  'cpu_shares',
  'pids_limit',
  'shm_size',
  'tty',
  'stdin_open',
  'deploy',
  'scale',
  'env_file',
  'extends',
  'labels',
  'command',
  'entrypoint',
  'healthcheck',
  'ulimits',
  'sysctls',
  'tmpfs',
  'dns',
  'dns_search',
  'extra_hosts',
  'ipc',
  'pid',
  'userns_mode',
  'group_add',
  'runtime',
  'secrets',
  'configs',
  'build',
]);
/** Lists of NAME=value: a bare NAME (passed through from the environment) is shown. */
const NAMED_LISTS = new Set(['environment', 'args']);

function shown(path: readonly string[]): boolean {
  const [top, , field, sub] = path;
  if (top === 'name' || top === 'version' || top === 'include') return true;
  if (top === 'networks' || top === 'volumes') return true;
  if (top === 'secrets' || top === 'configs') return field !== 'content';
  if (top === 'services' && field !== undefined)
    return field === 'build' ? sub !== 'args' : SERVICE_SHOWN.has(field);
  return false;
}

/** `text` with the values that may carry secrets masked; NAME=value items keep their NAME. */
export function maskComposeText(text: string): string {
  try {
    return masked(text);
  } catch {
    return MASK; // not YAML the loader would take either (an alias before its anchor)
  }
}

function masked(text: string): string {
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length > 0) return MASK;
  visit(doc, {
    Scalar(key, node, ancestors) {
      if (key === 'key') return;
      const path: string[] = [];
      for (const a of ancestors) if (isPair(a) && isScalar(a.key)) path.push(String(a.key.value));
      if (shown(path)) return;
      const v = node.value;
      const s = typeof v === 'string' ? v : String(v);
      const named = /^([A-Za-z_][A-Za-z0-9_.-]*)(=|$)/.exec(s);
      const masked =
        named && key !== null && typeof key === 'number'
          ? named[2] === '='
            ? `${named[1]}=${MASK}`
            : NAMED_LISTS.has(path[path.length - 1] ?? '')
              ? s
              : MASK
          : MASK;
      if (masked === s) return;
      const out = new Scalar(masked);
      out.type = Scalar.PLAIN;
      return out;
    },
  });
  return doc.toString({ lineWidth: 0 }).trimEnd();
}
