/**
 * Every request to the Engine API passes here: dockerode's own calls (it routes them all through
 * `modem.dial`, which guardRequests wraps once per client) and ours: engineRequest, sent by the
 * engine's own JSON transport on a unix socket (fetch-transport.ts, `modem.request`, wrapped by the
 * same guards) or else by dial, and the stream function in streams.ts, built on dialEngine. A
 * RequestGuard registered with setRequestGuard sees the method, path, query and body of each request
 * before it is sent, and may refuse it by throwing; so does each engine's own guard (an EngineGuard:
 * the policy, src/docker/policy/guard.ts), which may also ask the engine (GETs that bypass the guards)
 * while it decides. Knows nothing of MCP or of any tool.
 */
import type { EngineRequests } from '../core/engine.ts';
import { ToolError } from '../core/errors.ts';

/** docker-modem's `dial` options, as dockerode and we pass them. */
export interface DialOptions {
  path: string;
  method: string;
  options?: Record<string, unknown> & { _query?: Record<string, unknown>; _body?: unknown };
  statusCodes: Record<number, boolean | string>;
  isStream?: boolean;
  hijack?: boolean;
  openStdin?: boolean;
  file?: unknown;
  allowEmpty?: boolean;
  headers?: Record<string, string>;
  authconfig?: { key?: string; base64?: string } & Record<string, unknown>;
  registryconfig?: { base64?: string } & Record<string, unknown>;
  abortSignal?: AbortSignal;
}
export type DialCallback = (err: unknown, data: unknown) => void;
export interface Modem {
  version?: string;
  dial(options: DialOptions, callback: DialCallback): void;
  /**
   * The same JSON request as an EngineCall, without dial's options and callback (the engine's own
   * transport on a unix socket has it): guarded exactly as dial is, by the same guards.
   */
  request?(call: EngineCall, signal: AbortSignal): Promise<unknown>;
}

/** One engine request as the engine will receive it (credentials left out). */
export interface EngineCall {
  method: string;
  /** Without the API version prefix or the query: '/containers/create'. */
  path: string;
  /** What goes into the query string; {} when nothing does. */
  query: Record<string, unknown>;
  /** The JSON body; undefined when there is none or it is an upload. */
  body?: unknown;
  /** The body is a byte stream (a tar upload, stdin): not shown. */
  upload: boolean;
  /** The uploaded object itself, set only for an upload: a guard may know it (a build context it packed). */
  file?: unknown;
  /** The answer is read as a stream (logs, events, exports) or the connection is hijacked (exec, attach). */
  stream: boolean;
}

/** Sees each request before it is sent; throwing (or rejecting) refuses it with that error. */
export type RequestGuard = (call: EngineCall) => void | Promise<void>;

let guard: RequestGuard | undefined;

/** Registers the guard every engine request passes (undefined: none, the default). */
export function setRequestGuard(next: RequestGuard | undefined): void {
  guard = next;
}

const PRIVATE = new Set(['authconfig', 'abortSignal']);

/**
 * What the HTTP client would turn into another path: a '.' or '..' segment (or one spelled with
 * '%2e'), which it resolves; a '#', after which it drops the rest; a backslash, which it reads as '/';
 * a control character, which it removes (no name holds any other character outside printable ASCII);
 * a space at the end, which it trims.
 */
const REWRITTEN = /[^ -~]|[#\\]|(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)| $/i;

/**
 * Refuses a request whose path the HTTP client would send as another one: '/networks/x/../../containers/
 * c/start#/connect' would reach '/containers/c/start', past guards that judged the path as written.
 * Names the tools take cannot hold these; a name from elsewhere (a Compose file) could.
 */
export function checkPath(call: Pick<EngineCall, 'method' | 'path'>): void {
  if (REWRITTEN.test(call.path))
    throw new ToolError(
      'invalid_argument',
      `engine request ${call.method} ${JSON.stringify(call.path)}: a name in it holds '.', '..', '#', '\\' or a character outside printable ASCII, which would send the request elsewhere`,
      { hint: 'Fix the name: names of containers, networks and volumes use letters, digits and _ . -.' },
    );
}

/** The request `dial` will send, as docker-modem builds it (same query and body rules). */
export function describeDial(o: DialOptions): EngineCall {
  const given = o.options;
  // Copied only when there is something to leave out (most requests carry neither).
  const opts =
    given && (Object.hasOwn(given, 'authconfig') || Object.hasOwn(given, 'abortSignal'))
      ? Object.fromEntries(Object.entries(given).filter(([k]) => !PRIVATE.has(k)))
      : given;
  const mark = o.path.indexOf('?');
  const path = mark < 0 ? o.path : o.path.slice(0, mark);
  const query =
    mark >= 0 && opts && hasKeys(opts) ? ((opts._query as Record<string, unknown> | undefined) ?? opts) : {};
  const upload = o.file !== undefined || !!o.openStdin;
  const sent = !upload && opts && o.method === 'POST' ? (opts._body ?? opts) : undefined;
  // Like dial: an empty JSON body is not sent unless allowEmpty says so.
  const empty = sent !== undefined && (sent === '' || JSON.stringify(sent) === '{}');
  const body = empty && !o.allowEmpty ? undefined : sent;
  const call: EngineCall = {
    method: o.method,
    path,
    query,
    body,
    upload,
    stream: !!(o.isStream || o.hijack || o.openStdin),
  };
  if (o.file !== undefined) call.file = o.file;
  return call;
}

/** What an engine's own guard may ask the engine while it decides: requests that bypass the guards. */
export interface GuardIO {
  /** A JSON GET (e.g. '/containers/web/json'); undefined on 404. */
  get<T>(path: string, query?: Record<string, unknown>): Promise<T | undefined>;
  /**
   * Any other request (the path probe's own container: policy/probe.ts): a POST's JSON answer, or with
   * `head` the answer's headers; rejects as dockerode does (statusCode, json). `detached`: not under
   * the call's signal (a clean-up, or a create whose answer must not be lost), with a timeout of its own.
   */
  send(req: EngineRequest, o?: { head?: boolean; detached?: boolean }): Promise<unknown>;
  /** The call's signal, when it has one. */
  readonly signal?: AbortSignal;
}

/** How long a detached guard request may take. */
const DETACHED_MS = 30_000;

/**
 * GuardIO over `dial`: the client's raw dial in front of the guards, or its guarded one (requestIO).
 * A class: one is made for every guarded request (list and inspect included), so one allocation.
 */
class DialIO implements GuardIO {
  constructor(
    private readonly dial: Modem['dial'],
    readonly signal: AbortSignal | undefined,
  ) {}

  private ask<T>(options: DialOptions): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.dial(options, (err, data) => (err ? reject(err) : resolve(data as T))),
    );
  }

  async get<T>(path: string, query?: Record<string, unknown>): Promise<T | undefined> {
    checkPath({ method: 'GET', path });
    try {
      return await this.ask<T>(dialOptions({ path, query }, this.signal ?? new AbortController().signal));
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
  }

  async send(req: EngineRequest, o: { head?: boolean; detached?: boolean } = {}): Promise<unknown> {
    checkPath({ method: req.method ?? 'GET', path: req.path });
    const own = o.detached ? AbortSignal.timeout(DETACHED_MS) : (this.signal ?? new AbortController().signal);
    const options = dialOptions(req, own);
    if (!o.head) return this.ask(options);
    // As dockerode's infoArchive: the answer as a stream, for its headers; a HEAD has no body to read.
    const res = await this.ask<{ headers?: Record<string, unknown>; resume?: () => void }>({
      ...options,
      isStream: true,
    });
    res.resume?.();
    return res.headers ?? {};
  }
}

/** A GuardIO through the client's own (guarded) requests, for a check made before the requests it judges (Compose up). */
export const requestIO = (docker: EngineRequests, signal?: AbortSignal): GuardIO => {
  const modem = docker.modem as Modem;
  return new DialIO(modem.dial.bind(modem), signal);
};

/**
 * A guard of one engine (its policy, with its facts): sees each request after the global guard. It may
 * answer a path to send the request to instead: the container it judged, by ID, so that a rename
 * between its check and the request cannot put another container under the name.
 */
export type EngineGuard = (call: EngineCall, io: GuardIO) => GuardVerdict | Promise<GuardVerdict>;
export type GuardVerdict = undefined | { path: string };

/**
 * Puts the guards in front of the client's transport: the global one (setRequestGuard) and the
 * engine's own, if given. Call it once per client, after any other wrapping.
 */
export function guardRequests(docker: EngineRequests, engineGuard?: EngineGuard): void {
  const modem = docker.modem as Modem;
  const send = modem.dial.bind(modem);
  // What the guards may ask the engine while they decide: unguarded requests under the call's signal.
  const ioFor = (signal: AbortSignal | undefined): GuardIO => new DialIO(send, signal);
  // The verdict on `call`: undefined when both guards let it pass at once, a promise when one asks.
  const verdictOn = (
    call: EngineCall,
    signal: AbortSignal | undefined,
  ): GuardVerdict | Promise<GuardVerdict> => {
    const first = guard?.(call);
    if (!engineGuard) return first instanceof Promise ? first.then(() => undefined) : undefined;
    return first instanceof Promise
      ? first.then(() => engineGuard(call, ioFor(signal)))
      : engineGuard(call, ioFor(signal));
  };
  // The options to send: the path the verdict names instead of the one given, its query kept.
  const pinned = (options: DialOptions, v: GuardVerdict): DialOptions => {
    if (!v) return options;
    const mark = options.path.indexOf('?');
    return { ...options, path: `${v.path}${mark < 0 ? '' : options.path.slice(mark)}` };
  };
  modem.dial = (given, callback) => {
    const options = withoutUnset(given);
    let verdict: GuardVerdict | Promise<GuardVerdict>;
    try {
      const call = describeDial(options);
      checkPath(call);
      if (!guard && !engineGuard) return send(options, callback);
      verdict = verdictOn(call, options.abortSignal);
    } catch (e) {
      return callback(e, null);
    }
    if (verdict instanceof Promise)
      verdict.then(
        (v) => send(pinned(options, v), callback),
        (e) => callback(e, null),
      );
    else send(pinned(options, verdict), callback);
  };
  const direct = modem.request?.bind(modem);
  if (!direct) return;
  modem.request = (call, signal) => {
    let verdict: GuardVerdict | Promise<GuardVerdict>;
    try {
      checkPath(call);
      if (!guard && !engineGuard) return direct(call, signal);
      verdict = verdictOn(call, signal);
    } catch (e) {
      return Promise.reject(e);
    }
    const sent = (v: GuardVerdict) => direct(v ? { ...call, path: v.path } : call, signal);
    return verdict instanceof Promise ? verdict.then(sent) : sent(verdict);
  };
}

/**
 * The dial options without query parameters left undefined (`filters: undefined` from a call given no
 * filters). docker-modem would send them as `filters=`: Docker reads that as no filter, Podman refuses
 * it ("failed to parse parameters ... unexpected end of JSON input"). Omitting them means the same to both.
 */
export function withoutUnset(o: DialOptions): DialOptions {
  const opts = o.options;
  if (!opts) return o;
  const set = (r: Record<string, unknown>) => {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(r)) if (r[k] !== undefined) out[k] = r[k];
    return out;
  };
  if (!hasUnset(opts) && !hasUnset(opts._query)) return o;
  const options: DialOptions['options'] = set(opts);
  if (opts._query) options._query = set(opts._query);
  return { ...o, options };
}

function hasKeys(r: Record<string, unknown>): boolean {
  for (const _ in r) return true;
  return false;
}

function hasUnset(r: Record<string, unknown> | undefined): boolean {
  if (!r) return false;
  for (const k in r) if (r[k] === undefined) return true;
  return false;
}

/** One dial as a promise. */
export function dialEngine<T>(docker: EngineRequests, options: DialOptions): Promise<T> {
  const modem = docker.modem as Modem;
  return new Promise<T>((resolve, reject) =>
    modem.dial(options, (err, data) => (err ? reject(err) : resolve(data as T))),
  );
}

/** docker-modem's statusCodes: true for success, else the reason an error names. */
export const STATUS: Record<number, boolean | string> = {
  200: true,
  201: true,
  204: true,
  304: 'not modified',
  400: 'bad parameter',
  403: 'forbidden',
  404: 'not found',
  409: 'conflict',
  500: 'server error',
  503: 'unavailable',
};

export interface EngineRequest {
  path: string;
  method?: string;
  query?: Record<string, unknown>;
  /** Sent as JSON (POST). */
  body?: unknown;
}

/** The dial options for a request: query and body kept apart, the call's signal attached. */
export const dialOptions = (req: EngineRequest, signal: AbortSignal): DialOptions => ({
  path: `${req.path}?`,
  method: req.method ?? 'GET',
  // An empty _body rather than none: dial would otherwise send the options themselves as the body.
  options: { _query: req.query ?? {}, _body: req.body ?? {} },
  abortSignal: signal,
  statusCodes: STATUS,
});

/**
 * A JSON engine request with the call's signal; a refusal throws as dockerode's do (statusCode,
 * json), for the one status→error mapping in errors.ts. Use it where dockerode drops the signal or
 * the options (image inspect and history, network inspect, build prune, create with warnings).
 */
export function engineRequest<T>(
  docker: EngineRequests,
  req: EngineRequest,
  signal: AbortSignal,
): Promise<T> {
  const modem = docker.modem as Modem;
  if (modem.request) return modem.request(callOf(req), signal) as Promise<T>;
  return dialEngine<T>(docker, dialOptions(req, signal));
}

/**
 * The EngineCall describeDial makes of `dialOptions(req)` once withoutUnset has run: the query without
 * unset values, a POST's body unless it is empty JSON.
 */
export function callOf(req: EngineRequest): EngineCall {
  const method = req.method ?? 'GET';
  const query: Record<string, unknown> = {};
  if (req.query)
    for (const k of Object.keys(req.query)) if (req.query[k] !== undefined) query[k] = req.query[k];
  const sent = method === 'POST' ? (req.body ?? {}) : undefined;
  const empty = sent !== undefined && (sent === '' || JSON.stringify(sent) === '{}');
  return { method, path: req.path, query, body: empty ? undefined : sent, upload: false, stream: false };
}
