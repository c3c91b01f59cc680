/**
 * MCP on stdin/stdout. The initialize-era hot path — `initialize`, `ping`, `tools/list`, `tools/call`
 * and their notifications — is answered here, from the same functions the SDK server uses
 * (tool-calls.ts), without loading the SDK. Everything else goes to the SDK's `serveStdio`, loaded on
 * the first message that needs it: a 2026-era opening (`server/discover`, a `_meta` envelope), prompts,
 * resources, completion, subscriptions, a second initialize, and any request this path does not find
 * well-formed, so the SDK's own errors answer those. The SDK is first told the initialize it missed,
 * and its answer to that replay is dropped.
 *
 * Why: the SDK's import and first-request schema build are ~30 ms of a ~50 ms start and ~16 MiB of
 * memory, and its per-message validation ~0.15 ms a call (docs/BENCHMARKS.md); the stdio start-up
 * and per-call targets sit below that floor. HTTP keeps serving everything through the SDK.
 *
 * The end of stdin is not the end of the work: every request read before it is answered before the
 * process exits. Calls still running get the shutdown grace (--shutdown-grace), then are cancelled
 * through the pipeline's `stopping` signal and answer `cancelled`; whatever is still unanswered a
 * second later is answered here. Only then does the connection close (the SDK ends open listens).
 */
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import {
  type CallResult,
  callResultJson,
  type Progress,
  toCallResult,
  UnknownToolError,
} from '../call-result.ts';
import { ToolError } from '../core/errors.ts';
import { CAPABILITIES, canElicit, serverInfo } from '../initialize.ts';
import type { Log } from '../log.ts';
import { Cancellation } from '../pipeline/signal.ts';
import type { callTool, prepareCalls, ServerDeps } from '../tool-calls.ts';
import { isObject, LineTransport } from './line-transport.ts';
import { StdioQuestions } from './stdio-questions.ts';

/**
 * The initialize-era protocol versions the SDK negotiates, newest first; a client asking for another
 * gets the first. test/unit/stdio-dispatch.test.ts holds this to the SDK's own list.
 */
export const LEGACY_PROTOCOL_VERSIONS = [
  '2025-11-25',
  '2025-06-18',
  '2025-03-26',
  '2024-11-05',
  '2024-10-07',
];
/** The `_meta` key whose presence claims the 2026-era per-request envelope: such traffic is the SDK's. */
const ENVELOPE_CLAIM = 'io.modelcontextprotocol/protocolVersion';
/** Id of the initialize replayed to the SDK; its answer is dropped. */
const REPLAY_ID = 'mcp-docker:replayed-initialize';
/** The configuration's default for --shutdown-grace, for callers that pass none. */
const DEFAULT_GRACE_SECONDS = 10;
/** After the grace: how long cancelled calls get to send their `cancelled` answer (as over HTTP). */
const ANSWER_WAIT_MS = 1000;
/** A 2026-era listen stays open until the connection ends; closing answers it, so it is not waited for. */
const LISTEN = 'subscriptions/listen';

type Id = string | number;
interface Message {
  jsonrpc: '2.0';
  id?: Id;
  method?: string;
  params?: Record<string, unknown>;
  result?: unknown;
  error?: unknown;
}

const isId = (v: unknown): v is Id => typeof v === 'string' || typeof v === 'number';
const meta = (params: Record<string, unknown> | undefined) =>
  isObject(params?._meta) ? params._meta : undefined;
const claimsEnvelope = (params: Record<string, unknown> | undefined) => {
  const m = meta(params);
  return m !== undefined && ENVELOPE_CLAIM in m;
};

/** An initialize the SDK would accept as the 2025-era handshake; any other goes to the SDK. */
function plainInitialize(params: Record<string, unknown> | undefined): params is {
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  clientInfo: { name: string; version: string };
} {
  if (!params || claimsEnvelope(params)) return false;
  const info = params.clientInfo;
  return (
    typeof params.protocolVersion === 'string' &&
    isObject(params.capabilities) &&
    isObject(info) &&
    typeof info.name === 'string' &&
    typeof info.version === 'string'
  );
}

/** A tools/call this path answers: a string name, object (or no) arguments, a usable progress token. */
function plainCall(
  params: Record<string, unknown> | undefined,
): params is { name: string; arguments?: unknown } {
  if (!params || typeof params.name !== 'string' || claimsEnvelope(params)) return false;
  if (params.arguments !== undefined && !isObject(params.arguments)) return false;
  const token = meta(params)?.progressToken;
  return token === undefined || isId(token);
}

/** Hands the SDK its messages and takes its replies to the wire (dropping the replayed initialize's). */
class SdkChannel implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];

  constructor(
    private readonly wire: LineTransport,
    private readonly write: (message: JSONRPCMessage) => Promise<void>,
  ) {}

  async start(): Promise<void> {}

  send(message: JSONRPCMessage): Promise<void> {
    if ((message as Message).id === REPLAY_ID && !('method' in message)) return Promise.resolve();
    return this.write(message);
  }

  close(): Promise<void> {
    return this.wire.close();
  }

  deliver(message: Message): void {
    this.onmessage?.(message as JSONRPCMessage);
  }
}

/**
 * What the dispatcher serves: initialize and tools/list from the first two, calls (and the SDK's path)
 * with the deps, which may be loaded only when the first of those arrives (main.ts).
 */
export interface StdioStart {
  version: string;
  /** The tools/list result as JSON text. */
  listing: () => Promise<string>;
  /** Asked for once, by the first call, the SDK path or the background load after tools/list. */
  deps: () => ServerDeps | Promise<ServerDeps>;
}

/** Stdio over deps already made: tools/list from them, as the SDK's path lists. */
export const stdioOf = (deps: ServerDeps): StdioStart => ({
  version: deps.version,
  listing: () => import('../tool-calls.ts').then((m) => m.listToolsJson(deps)),
  deps: () => deps,
});

/** The deps a call runs with, and the function that runs it (loaded with them). */
interface Calls {
  deps: ServerDeps;
  callTool: typeof callTool;
  prepareCalls: typeof prepareCalls;
}

export interface StdioOptions {
  /** Seconds the requests still running when stdin ends get before they are cancelled (--shutdown-grace). */
  graceSeconds?: number;
}

export class StdioDispatcher {
  private phase: 'opening' | 'fast' | 'sdk' = 'opening';
  /** What the SDK must see first when it is loaded after the fast path answered initialize. */
  private readonly replay: Message[] = [];
  private sdk?: Promise<SdkChannel | undefined>;
  /** serveStdio's handle: closing it answers open listens, then closes the server and the wire. */
  private sdkHandle?: { close(): Promise<void> };
  /** tools/call requests running on the fast path, for notifications/cancelled and disconnects. */
  private readonly running = new Map<Id, Cancellation>();
  /** Requests read and not yet answered, on either path, in arrival order. */
  private readonly owed: { id: Id; method: string }[] = [];
  private readonly onAnswered = new Set<() => void>();
  /** Aborted when the grace is over: calls still running on either path end `cancelled`, answered. */
  private readonly stopping = new AbortController();
  private calls?: Calls;
  private loadingCalls?: Promise<Calls>;
  private readonly graceMs: number;
  private ending = false;
  private closed = false;
  /** The questions this path puts to the user (--confirm), and the client's answers to them. */
  private readonly questions = new StdioQuestions((message) => this.send(message));
  private finished!: () => void;
  /** Settles once every request read has been answered (or the output failed) and the wire is closed. */
  readonly done = new Promise<void>((resolve) => {
    this.finished = resolve;
  });

  constructor(
    private readonly wire: LineTransport,
    private readonly served: StdioStart,
    private readonly log: Log,
    options: StdioOptions = {},
  ) {
    this.graceMs = (options.graceSeconds ?? DEFAULT_GRACE_SECONDS) * 1000;
    wire.onmessage = (m) => this.receive(m as Message);
    wire.onerror = (e) => log.warn(`stdio: ${e.message}`);
    wire.oninputend = () => void this.drain();
    wire.onclose = () => this.onClose();
  }

  start(): Promise<void> {
    return this.wire.start();
  }

  /**
   * Once tools/list is answered the client is reading it, and calls come later: the call code loads
   * then, in the background, and readies what the first call would wait for (prepareCalls: the
   * catalogue's data, the default engine's connection). A load that fails is the first call's error.
   */
  private preload(): void {
    if (this.calls || this.loadingCalls) return;
    setTimeout(() => {
      const calls = this.loaded();
      const prepare = (c: Calls) => c.prepareCalls(c.deps);
      if (calls instanceof Promise) calls.then(prepare, () => {});
      else prepare(calls);
    }, 0);
  }

  /** The deps and the call code, loaded once; without a promise once they are. */
  private loaded(): Calls | Promise<Calls> {
    if (this.calls) return this.calls;
    this.loadingCalls ??= Promise.all([this.served.deps(), import('../tool-calls.ts')]).then(
      ([deps, { callTool, prepareCalls }]) => {
        const stop = this.stopping.signal;
        const stopping = deps.env.stopping ? AbortSignal.any([deps.env.stopping, stop]) : stop;
        this.calls = { deps: { ...deps, env: { ...deps.env, stopping } }, callTool, prepareCalls };
        return this.calls;
      },
    );
    return this.loadingCalls;
  }

  private receive(m: Message): void {
    if (m.method !== undefined && isId(m.id) && m.method !== LISTEN)
      this.owed.push({ id: m.id, method: m.method });
    // A request the client cancels gets no answer (MCP), on either path.
    if (m.method === 'notifications/cancelled' && isId(m.params?.requestId))
      this.answered(m.params.requestId);
    if (this.phase === 'opening') {
      if (m.method === 'initialize' && isId(m.id) && plainInitialize(m.params)) {
        this.phase = 'fast';
        this.questions.canAsk = canElicit(m.params.capabilities);
        this.replay.push({ ...m, id: REPLAY_ID });
        const asked = m.params.protocolVersion;
        this.reply(m.id, {
          protocolVersion: LEGACY_PROTOCOL_VERSIONS.includes(asked) ? asked : LEGACY_PROTOCOL_VERSIONS[0],
          capabilities: CAPABILITIES,
          serverInfo: serverInfo(this.served.version),
        });
        return;
      }
      // A 2026-era opening, or traffic before initialize: the SDK decides, for the whole connection.
      this.phase = 'sdk';
    }
    if (this.phase === 'sdk' || !this.answerFast(m)) this.toSdk(m);
  }

  /** Serves m on the fast path; false when it is the SDK's. */
  private answerFast(m: Message): boolean {
    if (m.method === undefined) {
      // The user's answer to a question this path asked; any other reply is the SDK's, if loaded.
      if (this.questions.take(m)) return true;
      return this.sdk === undefined;
    }
    if (!isId(m.id)) {
      if (m.method === 'notifications/cancelled') {
        const id = m.params?.requestId;
        const running = isId(id) ? this.running.get(id) : undefined;
        if (running) {
          running.cancel();
          return true;
        }
      }
      if (m.method === 'notifications/initialized' && this.sdk === undefined) this.replay.push(m);
      // The SDK, once loaded, hears every notification; before that it has handlers for none of them.
      return this.sdk === undefined;
    }
    const { id } = m;
    if (m.method === 'ping' && !claimsEnvelope(m.params)) {
      this.reply(id, {});
      return true;
    }
    if (m.method === 'tools/list' && !claimsEnvelope(m.params)) {
      this.served.listing().then(
        (json) => {
          this.replyJson(id, json);
          this.preload();
        },
        (e) => this.fail(id, e),
      );
      return true;
    }
    if (m.method === 'tools/call' && plainCall(m.params) && !this.running.has(id)) {
      this.call(id, m.params, meta(m.params)?.progressToken as Id | undefined);
      return true;
    }
    return false;
  }

  private call(id: Id, params: { name: string; arguments?: unknown }, token: Id | undefined): void {
    const cancel = new Cancellation();
    this.running.set(id, cancel);
    const sendProgress =
      token === undefined
        ? undefined
        : (p: Progress) =>
            void this.send({
              jsonrpc: '2.0',
              method: 'notifications/progress',
              params: { progressToken: token, ...p },
            }).catch(() => {});
    // What ends a wait for the user's answer; made only for a call that asks (--confirm).
    const waitSignal = () => AbortSignal.any([cancel.signal(), this.stopping.signal]);
    const run = ({ deps, callTool }: Calls) =>
      this.questions.call(
        deps,
        callTool,
        params,
        { signal: cancel, sendProgress, modern: false },
        waitSignal,
      );
    const calls = this.loaded();
    (calls instanceof Promise ? calls.then(run) : run(calls)).then(
      (result) => {
        this.running.delete(id);
        // A cancelled request gets no answer (MCP: the client has stopped waiting for it).
        if (!cancel.cancelled) this.replyCall(id, result);
      },
      (e) => {
        this.running.delete(id);
        if (!cancel.cancelled) this.fail(id, e);
      },
    );
  }

  /** Every message out goes through here: an answer settles the request it answers. */
  private send(message: JSONRPCMessage): Promise<void> {
    const m = message as Message;
    if (m.method === undefined && isId(m.id)) this.answered(m.id);
    return this.wire.send(message);
  }

  private answered(id: Id): void {
    const at = this.owed.findIndex((o) => o.id === id);
    if (at < 0) return;
    this.owed.splice(at, 1);
    if (this.owed.length === 0) for (const wake of this.onAnswered) wake();
  }

  /** True once nothing is owed, false after `ms`. */
  private allAnswered(ms: number): Promise<boolean> {
    if (this.owed.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.onAnswered.delete(wake);
        resolve(this.owed.length === 0);
      };
      const timer = setTimeout(wake, ms);
      this.onAnswered.add(wake);
    });
  }

  /** A tools/call answer: a successful one is written from its text, its data not serialized again. */
  private replyCall(id: Id, result: CallResult): void {
    const json = callResultJson(result);
    if (json === undefined) {
      this.reply(id, result);
      return;
    }
    this.replyJson(id, json);
  }

  /** An answer whose result is already JSON text. */
  private replyJson(id: Id, json: string): void {
    this.answered(id);
    this.wire.sendJson(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${json}}`).catch(() => {});
  }

  private reply(id: Id, result: unknown): void {
    this.send({ jsonrpc: '2.0', id, result } as JSONRPCMessage).catch(() => {});
  }

  private fail(id: Id, e: unknown): void {
    if (e instanceof ToolError) {
      this.reply(id, toCallResult({ ok: false, error: e }, false));
      return;
    }
    const error =
      e instanceof UnknownToolError
        ? { code: -32602, message: e.message }
        : { code: -32603, message: 'Internal error' };
    if (!(e instanceof UnknownToolError))
      this.log.error(`stdio: ${e instanceof Error ? e.message : String(e)}`);
    this.send({ jsonrpc: '2.0', id, error } as JSONRPCMessage).catch(() => {});
  }

  /** Queues m for the SDK, loading it first; its messages arrive in the order they were read. */
  private toSdk(m: Message): void {
    if (!this.sdk) {
      this.log.debug(`stdio: loading the MCP SDK for ${m.method ? `'${m.method}'` : 'a response'}`);
      this.sdk = this.loadSdk();
    }
    void this.sdk.then(
      (channel) => channel?.deliver(m),
      // The SDK's chunk would not load (a damaged binary): requests still get an answer.
      (e) => {
        if (m.method !== undefined && isId(m.id)) this.fail(m.id, e);
      },
    );
  }

  private async loadSdk(): Promise<SdkChannel | undefined> {
    const [{ serveStdio }, { buildServer }, { ListenTap }, { deps }] = await Promise.all([
      import('@modelcontextprotocol/server/stdio'),
      import('../server.ts'),
      import('../resources/subscriptions.ts'),
      this.loaded(),
    ]);
    if (this.closed) return undefined;
    const channel = new SdkChannel(this.wire, (message) => this.send(message));
    // The tap sees 2026-era `subscriptions/listen`, which serveStdio answers before any server instance does.
    const listens = new ListenTap(channel);
    this.sdkHandle = serveStdio(() => buildServer(deps, { listens }), {
      transport: listens,
      onerror: (e) => this.log.warn(`stdio: ${e.message}`),
    });
    for (const m of this.replay.splice(0)) channel.deliver(m);
    return channel;
  }

  /**
   * Stdin ended: answer what was read (grace, then cancel, then answer the rest here), close, done.
   */
  private async drain(): Promise<void> {
    if (this.ending || this.closed) return;
    this.ending = true;
    const seconds = this.graceMs / 1000;
    if (this.owed.length > 0)
      this.log.info(`stdin closed: answering ${this.owed.length} request(s), waiting up to ${seconds}s`);
    if (!(await this.allAnswered(this.graceMs))) {
      this.log.warn(
        `stdin closed: cancelling ${this.owed.length} request(s) still running after ${seconds}s`,
      );
      this.stopping.abort();
      if (!(await this.allAnswered(ANSWER_WAIT_MS))) this.answerLeft();
    }
    if (this.closed) return;
    await this.sdk?.catch(() => undefined);
    await this.sdkHandle?.close().catch(() => {});
    await this.wire.close();
  }

  /** Requests that did not answer even once cancelled: each gets the `cancelled` answer its kind takes. */
  private answerLeft(): void {
    const why = new ToolError('cancelled', 'the request was cancelled: the server is shutting down', {
      hint: 'Call again once the server is back.',
      retryable: true,
    });
    const text = `${why.kind}: ${why.message} — ${why.hint}`;
    for (const { id, method } of [...this.owed]) {
      if (method === 'tools/call') this.reply(id, toCallResult({ ok: false, error: why }, false));
      else {
        const data = { kind: why.kind, retryable: why.retryable, hint: why.hint };
        this.send({
          jsonrpc: '2.0',
          id,
          error: { code: -32603, message: text, data },
        } as JSONRPCMessage).catch(() => {});
      }
    }
  }

  /** The wire closed: after drain(), or because stdout failed (nobody is left to answer). */
  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const running of this.running.values()) running.cancel(); // the client disconnected
    this.stopping.abort();
    void this.sdk?.then((channel) => channel?.onclose?.());
    this.finished();
  }
}

/**
 * Serves MCP on stdin/stdout until stdin closes and every request read has its answer, then exits 0.
 * `graceSeconds`: --shutdown-grace.
 */
export function startStdio(served: StdioStart, log: Log, graceSeconds?: number): void {
  const wire = new LineTransport();
  const dispatcher = new StdioDispatcher(wire, served, log, { graceSeconds });
  void dispatcher.start();
  void dispatcher.done.then(() => wire.drained()).then(() => process.exit(0));
}
