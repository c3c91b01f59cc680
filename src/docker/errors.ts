/**
 * The one status→error mapping: what an engine answer or a lost connection means, as a ToolError.
 * A not-found names the kind of object that was missing (`subject`); where to look for what exists
 * is the caller's to say. Knows nothing of MCP or of any tool.
 */

import { endAtWord, startAtWord } from '../core/cut.ts';
import { type ErrorKind, type ObjectKind, ToolError } from '../core/errors.ts';
import { clean } from '../core/fence.ts';
import { scrubPaths } from '../core/host-details.ts';

/** Connection-level failures: the engine is not there (or not ours to talk to). */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOENT',
  'EACCES',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTSOCK',
  'FailedToOpenSocket',
  'ConnectionRefused',
  'ConnectionClosed',
]);

/** The shape of an engine refusal as docker-modem and the fetch transport throw it. */
interface EngineFailure {
  statusCode?: number;
  reason?: string;
  json?: { message?: string } | string | null;
  code?: string;
  message?: string;
}

/** Which object a 404's message is about. */
const SUBJECTS: [RegExp, ObjectKind][] = [
  [/no such container/i, 'container'],
  [/no such image|image .* not found|repository .* not found/i, 'image'],
  [/network .* not found|no such network/i, 'network'],
  [/no such volume|volume .* not found/i, 'volume'],
];

export interface EngineErrorOptions {
  /** Strings (socket paths) replaced by '<engine>' in what the engine said. */
  scrub?: string[];
  /** The engine's address, named when the connection is lost: it says which engine to check. */
  endpoint?: string;
}

/** The HTTP status of an engine refusal, if `e` is one. */
export const statusOf = (e: unknown): number | undefined => {
  const s = (e as { statusCode?: unknown } | null)?.statusCode;
  return typeof s === 'number' ? s : undefined;
};

/** What the engine said, first line only ('' when it said nothing). */
export const engineSaid = (e: unknown): string => {
  const json = (e as EngineFailure | null)?.json;
  const m = typeof json === 'string' ? json : json?.message;
  return typeof m === 'string' ? (m.split('\n')[0] ?? '') : '';
};

/** A 404 whose message matches `re` (e.g. /no such container/i): other 404s keep their own meaning. */
export const isMissing = (e: unknown, re?: RegExp): boolean =>
  statusOf(e) === 404 && (!re || re.test(engineSaid(e)));

/**
 * The ToolError an engine failure means, or undefined when `e` is not one (a bug, an abort):
 * connection codes become engine_unreachable, HTTP statuses their kind with a next step.
 */
export function engineError(e: unknown, opts: EngineErrorOptions = {}): ToolError | undefined {
  const err = (e ?? {}) as EngineFailure & { name?: string };
  // The SSH transport's own refusals (a changed host key, a refused key, the connection dropped)
  // name their cause and fix; on a reconnect they reach here rather than through discovery.
  if (err.name === 'SshSetupError') {
    // A refused host key may be someone in the middle: nothing to retry until the user decides.
    const hostKey = /^host key /.test(String(err.message));
    return new ToolError('engine_unreachable', `SSH: ${String(err.message).replace(/^SSH: /, '')}`, {
      hint: hostKey
        ? 'Check the host key as it says before trusting it; the next call reconnects by itself.'
        : 'Check that the engine and its SSH server are running; the next call reconnects by itself.',
      retryable: !hostKey,
    });
  }
  if (err.code && UNREACHABLE.has(err.code)) {
    const at = opts.endpoint ? ` at ${opts.endpoint}` : '';
    return new ToolError(
      'engine_unreachable',
      `lost the connection to the Docker engine${at} (${err.code})`,
      {
        hint: 'Check that the engine is running; the next call reconnects by itself.',
      },
    );
  }
  if (typeof err.statusCode !== 'number') return undefined;
  const detail = scrubbed(engineMessage(err), opts.scrub);
  // Every tool passes the engine's filters as its `filters` argument: name it, and the key at fault.
  // Docker: "invalid filter 'x'" (400); Podman: "\"x\" is an invalid volume filter" (500).
  const filter = (/^invalid filter '([^']*)'/i.exec(detail) ??
    /^"([^"]*)" is an invalid (?:\w+ )?filter/i.exec(detail))?.[1];
  if (filter !== undefined && (err.statusCode === 400 || err.statusCode === 500))
    return new ToolError(
      'invalid_argument',
      `invalid argument 'filters': the engine takes no '${clip(filter)}' filter here`,
      {
        hint: "Remove that key from filters; the tool's description of filters shows keys it takes.",
      },
    );
  const taken = portTaken(detail);
  if (taken) return taken;
  const [kind, hint] = classify(err.statusCode, detail);
  const subject = kind === 'not_found' ? SUBJECTS.find(([re]) => re.test(detail))?.[1] : undefined;
  // The engine quotes its own paths (a volume's data dir, a container's log): not a remote caller's to read.
  const hidden = scrubPaths(detail);
  const remote = hidden === detail ? undefined : { message: clip(hidden), hint };
  return new ToolError(kind, clip(detail), { hint, subject, remote });
}

/**
 * A published host port something else holds: Docker's "Bind for 127.0.0.1:8080 failed: port is
 * already allocated" (another container) or its proxy's "listen tcp4 127.0.0.1:8080: bind: address
 * already in use" (another process); Podman's "… listen tcp 127.0.0.1:8080: bind: address already in
 * use". Retrying fails the same way: the fix is another host port in `ports`.
 */
function portTaken(detail: string): ToolError | undefined {
  // Only a published port's bind: a swarm's listen address, say, can be in use too.
  if (
    !/port is already allocated/i.test(detail) &&
    !(
      /address already in use/i.test(detail) &&
      /external connectivity|userland proxy|rootlessport|listen on the \w+ port/i.test(detail)
    )
  )
    return undefined;
  const at = (/Bind for (\S+) failed/i.exec(detail) ??
    /listen (?:tcp|udp|sctp)[46]? (\S+?):? bind/i.exec(detail))?.[1];
  return new ToolError(
    'conflict',
    `host port ${at ? `${clip(at)} ` : ''}in ports is already in use (${clip(detail)})`,
    {
      hint: 'Choose another host port in ports, or stop what holds this one; or give only the container port and the engine picks a free one (a service scaled past one container needs that: a fixed host port serves one).',
    },
  );
}

export const scrubbed = (s: string, scrub: string[] = []): string =>
  scrub.reduce((acc, p) => (p ? acc.split(p).join('<engine>') : acc), s);

function engineMessage(err: EngineFailure): string {
  const m = engineSaid(err) || err.reason || err.message;
  // Escape sequences and control characters out: the engine may relay text others wrote.
  return firstLine(clean(String(m || `engine answered HTTP ${err.statusCode}`))).trim();
}

function classify(status: number, message: string): [ErrorKind, string | undefined] {
  // A driver named in the request that the engine has no plugin for: the argument, not a missing object.
  // Podman: "no volume plugin with name X available: required plugin missing".
  if (
    /error looking up (?:volume|network|logging) plugin|plugin ".*" not found|no (?:volume|network) plugin with name/i.test(
      message,
    )
  )
    return [
      'invalid_argument',
      "Check the driver: the engine has no plugin by that name (volumes: 'local' is built in; names are case-sensitive).",
    ];
  // The command's first word is no program in the image (Docker answers 400, older engines 500;
  // Podman's crun: "executable file `x` not found in $PATH").
  if (
    /exec: "[^"]*": (?:executable file not found|stat [^:]*: no such file or directory)|executable file [`'"][^`'"]*[`'"] not found/i.test(
      message,
    )
  )
    return [
      'invalid_argument',
      "Check command (and entrypoint): the image has no such program. Give one it contains (e.g. ['sh', '-c', '…']), or another image.",
    ];
  // Engines before API 1.44 answer 500 for arguments they refuse, later ones 400.
  if (/invalid reference format/i.test(message))
    return ['invalid_argument', 'Write the reference as [registry/]name[:tag], the name in lowercase.'];
  // An ID prefix several objects share (the engine answers 500).
  if (/multiple IDs found with provided prefix/i.test(message))
    return [
      'invalid_argument',
      'That ID prefix matches more than one object: give more of the ID, or the name.',
    ];
  // A number the engine cannot hold (its Go types are 64-bit at most).
  if (/json: cannot unmarshal number/i.test(message))
    return ['invalid_argument', 'A number is out of the range the engine takes: give a smaller one.'];
  if (/unable to find user .*no matching entries in passwd/i.test(message))
    return [
      'invalid_argument',
      "Check user: the image has no such user. Give one it has, or a numeric uid[:gid] (e.g. '1000:1000').",
    ];
  // A container whose log driver keeps nothing to read (`none`, or syslog and the like): Docker 501.
  if (/logging driver does not support reading/i.test(message))
    return [
      'conflict',
      'Its log driver keeps no logs to read (docker inspect shows HostConfig.LogConfig.Type): recreate it with the json-file or local driver to read them; retrying cannot help.',
    ];
  if (status === 404) return ['not_found', undefined];
  if (status === 409) return ['conflict', conflictHint(message)];
  if (status === 304) return ['conflict', 'Nothing to do: it is already in that state.'];
  if (status === 400) return ['invalid_argument', 'Fix the argument and call again.'];
  // Payload, URL or headers too large: an argument (often one that travels in the query) is too long.
  if (status === 413 || status === 414 || status === 431)
    return [
      'invalid_argument',
      'An argument is too long for the engine to accept; shorten it and call again.',
    ];
  if (status === 401) return ['registry_auth', 'Check the registry credentials.'];
  if (status === 403) return ['policy_denied', 'The engine refused this operation.'];
  // A volume or bind that cannot be mounted ("error while mounting volume '…': … no such file or
  // directory"): its source is missing on the engine host, not the command in the container.
  if (/error while mounting volume|failed to mount local volume|error mounting ".*" to rootfs/i.test(message))
    return [
      'invalid_argument',
      "Check the mounts: a volume's device or a bind's source does not exist on the engine host (or cannot be mounted there). Create it, or mount another volume.",
    ];
  if (/executable file not found|no such file or directory/i.test(message))
    return ['invalid_argument', 'Check the command: it must exist inside the container.'];
  if (
    /failed to allocate gateway|out of range|invalid (?:subnet|gateway|ip range|cidr)|overlaps with/i.test(
      message,
    )
  )
    return [
      'invalid_argument',
      'Check subnet, gateway and ip_range: the gateway and the range lie inside the subnet, which no other network uses.',
    ];
  // Podman answers 500 where Docker answers 409; its message ends with the cause, which names the conflict.
  if (PODMAN_CONFLICT.test(message))
    return [
      'conflict',
      /already exists$/i.test(message)
        ? 'Pick another name, or remove the existing one first.'
        : conflictHint(message),
    ];
  return ['internal', 'The engine reported an error; check its state and retry.'];
}

const PODMAN_CONFLICT =
  /: (?:container state improper|network already exists|volume already exists|that name is already in use|image is in use by a container)$/i;

function conflictHint(message: string): string | undefined {
  if (/memoryswap/i.test(message))
    return 'Give the swap limit with the memory limit (memory_swap: more than the memory, or -1 for unlimited).';
  if (/is not paused/i.test(message)) return 'It is not paused: nothing to unpause.';
  if (/paused/i.test(message)) return 'Unpause the container first.';
  if (/can only .+ running containers|not running, can't/i.test(message)) return 'Start the container first.';
  if (/is running|running container/i.test(message)) return 'Stop it first, or pass force: true.';
  if (/is not running/i.test(message)) return 'Start the container first.';
  if (/already in use/i.test(message)) return 'Pick another name, or remove the existing one first.';
  return undefined;
}

export const firstLine = (s: string): string => s.split('\n')[0] ?? '';

/**
 * At most ~MAX_DETAIL characters, the start and the end kept (the reason is often last), cut after
 * scrubbing so no path is half-kept: engines quote arguments back ('exec: "<argv[0]>": executable
 * file not found'), and a 128 KB argument must not come back as a 128 KB error. Both cuts fall at a
 * word (a part with no blank keeps nothing): redaction runs later and masks whole secrets only, so a
 * cut inside `DB_PASSWORD=x` would leave `WORD=x`, and a cut inside a secret its unmasked prefix.
 */
const MAX_DETAIL = 1000;
export const clip = (s: string): string =>
  s.length <= MAX_DETAIL
    ? s
    : [startAtWord(s, MAX_DETAIL * 0.6), endAtWord(s, MAX_DETAIL * 0.4) || '…'].filter(Boolean).join(' ');

/** The kind of any failure an engine call threw: its own kind for a ToolError, else the engine's mapping. */
export const errorKind = (e: unknown): ErrorKind =>
  e instanceof ToolError ? e.kind : (engineError(e)?.kind ?? 'internal');

/**
 * `e` as a refusal of one argument, when the engine refused it (400, or a 500 whose words match
 * `said`: engines before API 1.44 answer 500 for bad arguments): invalid_argument naming `field`
 * with the engine's reason and `hint`. Undefined for any other failure, which keeps its own meaning.
 */
export function argumentRefused(
  e: unknown,
  field: string,
  said: RegExp,
  hint: string,
): ToolError | undefined {
  const status = statusOf(e);
  // Escape sequences and control characters out, as engineMessage does: the engine quotes names others chose.
  const reason = clean(engineSaid(e)).trim();
  if (!(status === 400 || (status === 500 && said.test(reason)))) return undefined;
  return new ToolError(
    'invalid_argument',
    clip(`invalid argument '${field}': the engine refused it: ${reason}`),
    {
      hint,
    },
  );
}
