/**
 * What a remote (HTTP) caller may not read: the server host's paths and addresses. Over stdio the
 * user started the server on their own machine; over HTTP the paths and addresses map the
 * operator's disks and network (the engine's data root, other users' bind sources, compose files).
 * The pipeline hides the fields a tool declares `hostDetails`; engine errors carry a remote wording
 * with the same text scrubbed; prompts show a host path as HIDDEN when `ContentContext.remote`.
 */

import { mapChanged, setOwn } from './copy-on-change.ts';

/** What stands in for an address or a path. */
export const HIDDEN = '<hidden>';

/**
 * Engine URLs (unix://, tcp://, npipe://, ssh://, http(s)://), Windows paths and pipes, IPv4 addresses
 * with their port, and absolute POSIX paths of at least one segment that start a word.
 */
const ADDRESS_OR_PATH = new RegExp(
  [
    String.raw`\b(?:unix|tcp|npipe|ssh|https?|fd):\/\/[^\s'"()<>,;]*[^\s'"()<>,;:.]`,
    String.raw`\\\\[.?]\\[^\s'"]+`,
    String.raw`\b[A-Za-z]:\\[^\s'"]*`,
    String.raw`\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b`,
    String.raw`(?<![\w.~/-])\/(?:[\w.@+~-]+\/?)+`,
  ].join('|'),
  'g',
);

/** `text` with every absolute path and engine address replaced by HIDDEN. */
export const scrubPaths = (text: string): string => text.replace(ADDRESS_OR_PATH, HIDDEN);

/** A host path ('/srv/data', 'C:\data') as a remote caller sees it; a volume's name stays. */
export const hostPath = (path: string): string => (/^(?:\/|[A-Za-z]:\\|\\\\)/.test(path) ? HIDDEN : path);

/**
 * Labels whose value is a host path: Docker Compose writes where a project's files are on every
 * container of it. Label keys hold dots, so a dotted path cannot name them: a ':labels' path does.
 */
export const HOST_PATH_LABELS: ReadonlySet<string> = new Set([
  'com.docker.compose.project.config_files',
  'com.docker.compose.project.working_dir',
  'com.docker.compose.project.environment_file',
]);

/**
 * How the value at a path is hidden: whole (a string HIDDEN, the paths inside a list or map
 * replaced); ':source', mount specs 'SOURCE:TARGET[:MODE]' whose SOURCE alone is hidden when it is a
 * path; ':labels', a label map whose HOST_PATH_LABELS values are hidden; ':origin', 'KIND VALUE'
 * ('file /srv/p/secret.txt') whose VALUE alone is hidden when it is a path (a path may hold blanks);
 * ':options', a driver's option map whose options naming a place (`gelf-address`, `splunk-url`,
 * `fluentd-address`, a file or directory) are hidden whole, as their value may be a bare host name,
 * the rest with paths scrubbed.
 */
type How = 'whole' | 'source' | 'labels' | 'origin' | 'options';

interface ParsedPath {
  keys: string[];
  how: How;
}

const HOW: Record<string, (value: unknown) => unknown> = {
  whole: (v) => hideWhole(v),
  source: (v) => hideSources(v),
  labels: (v) => hideLabels(v),
  origin: (v) => hideOrigin(v),
  options: (v) => hideOptions(v),
};

/** A tool's `hostDetails`, parsed once. */
const parsedPaths = new WeakMap<readonly string[], ParsedPath[]>();

/**
 * A result as a remote caller may read it, per a tool's `hostDetails` (see core/tool.ts): dotted
 * paths, `*` for every item of a list or value of a map; a string there becomes HIDDEN (an empty one
 * stays empty), a list or map has the paths and addresses inside its strings replaced; a path ending
 * in ':source', ':labels', ':origin' or ':options' is hidden as `How` says. A field not there is left alone; a result with
 * nothing to hide comes back as the same object.
 */
export function hideHostDetails(
  data: Record<string, unknown>,
  paths: readonly string[],
): Record<string, unknown> {
  let parsed = parsedPaths.get(paths);
  if (!parsed) {
    parsed = paths.map((p) => {
      const [path = '', how = 'whole'] = p.split(':');
      return { keys: path.split('.'), how: how as How };
    });
    parsedPaths.set(paths, parsed);
  }
  let out = data;
  for (const p of parsed) out = hideAt(out, p, 0) as Record<string, unknown>;
  return out;
}

function hideAt(value: unknown, p: ParsedPath, i: number): unknown {
  if (i === p.keys.length) return (HOW[p.how] ?? hideWhole)(value);
  if (!value || typeof value !== 'object') return value;
  const key = p.keys[i] as string;
  if (key === '*') return mapChanged(value, (v) => hideAt(v, p, i + 1));
  if (Array.isArray(value) || !Object.hasOwn(value, key)) return value;
  const record = value as Record<string, unknown>;
  const next = hideAt(record[key], p, i + 1);
  if (next === record[key]) return value;
  const copy = { ...record };
  setOwn(copy, key, next);
  return copy;
}

const hideWhole = (value: unknown): unknown =>
  typeof value === 'string' ? (value === '' ? value : HIDDEN) : scrubDeep(value);

/** '/srv/data:/data:ro' → '<hidden>:/data:ro'; 'cache:/data' stays; a list of specs each. */
function hideSources(value: unknown): unknown {
  if (Array.isArray(value)) return mapChanged(value, hideSources);
  if (typeof value !== 'string') return value;
  // A Windows source has a drive's colon: the target starts at the first ':/' or ':X:\' after it.
  const at = /:(?=\/|[A-Za-z]:\\)/.exec(value.slice(1));
  if (!at) return hostPath(value);
  const cut = at.index + 1;
  const source = value.slice(0, cut);
  const shown = hostPath(source);
  return shown === source ? value : `${shown}${value.slice(cut)}`;
}

/** 'file /srv/p/s.txt' → 'file <hidden>'; 'environment TOKEN' stays. */
function hideOrigin(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const blank = value.indexOf(' ');
  if (blank < 0) return hostPath(value);
  const rest = value.slice(blank + 1);
  const shown = hostPath(rest);
  return shown === rest ? value : `${value.slice(0, blank)} ${shown}`;
}

/** The host-path labels of a label map HIDDEN, the rest as they are. */
const hideLabels = (value: unknown): unknown =>
  value && typeof value === 'object' && !Array.isArray(value)
    ? mapChanged(value, (v, k) => (k !== undefined && HOST_PATH_LABELS.has(k) ? hideWhole(v) : v))
    : value;

/** Option names whose value is a place: an address, URL, host, socket, file or directory. */
const PLACE_OPTION = /address|url|host|endpoint|socket|path|file|dir|server|uri/i;

const hideOptions = (value: unknown): unknown =>
  value && typeof value === 'object' && !Array.isArray(value)
    ? mapChanged(value, (v, k) =>
        typeof v === 'string' && v !== '' && k !== undefined && PLACE_OPTION.test(k) ? HIDDEN : scrubDeep(v),
      )
    : value;

const scrubDeep = (value: unknown): unknown => {
  if (typeof value === 'string') return scrubPaths(value);
  return value && typeof value === 'object' ? mapChanged(value, scrubDeep) : value;
};
