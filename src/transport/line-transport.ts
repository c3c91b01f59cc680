import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';

/** The longest line read (the SDK's limit); a longer one is discarded up to its newline. */
const MAX_LINE_BYTES = 10 * 1024 * 1024;
/**
 * A collection is requested every this many messages written. Left to itself the heap grows ~25 MB
 * over 1,000 list/inspect calls before JSC collects; with this, peak RSS stays ~10 MB lower
 * (bench/changes.md) and the median call time does not move.
 */
const GC_EVERY_MESSAGES = 16;
const collect = () => Bun.gc(false);

/** Bytes in, chunk by chunk, until the input ends: stdin, as Bun's own stream of it. */
export type LineInput = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** Text out, in order: `flush()` hands what was written to the OS (a promise while the pipe is full). */
export interface LineOutput {
  write(text: string): unknown;
  flush(): unknown;
}

const utf8 = new TextDecoder();

/**
 * Newline-delimited JSON-RPC on stdin/stdout without a schema pass per message. The SDK's stdio
 * transport runs every inbound line through its zod JSON-RPC schema; serveStdio and the server
 * classify and validate each message again after that, so here a line only has to be a JSON
 * object speaking JSON-RPC 2.0. A malformed request that carries an id is answered with a
 * JSON-RPC error (the SDK drops it, leaving the client waiting); other bad lines are skipped.
 *
 * Stdin and stdout are Bun's own (`Bun.stdin.stream()`, `Bun.stdout.writer()`), not Node's
 * process.stdin and process.stdout: those load Node's stream machinery, ~3.5 MiB of a session's peak
 * RSS (bench/changes.md), for the same bytes.
 */
export class LineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  /**
   * Told once stdin ends: no message will arrive after it, but send() still writes, so the requests
   * already read can be answered before close(). Without it, the end of stdin closes the transport
   * (what the SDK's serveStdio expects).
   */
  oninputend?: () => void;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  /** Inside an over-long line: drop bytes up to its newline. */
  private discarding = false;
  private closed = false;
  private ended = false;
  private written = 0;
  /** Ends the read in progress (stdin's reader cancelled), so reading stops at once. */
  private stop?: () => void;

  constructor(
    private readonly input: LineInput = Bun.stdin.stream(),
    private readonly output: LineOutput = Bun.stdout.writer(),
  ) {}

  async start(): Promise<void> {
    void this.read();
  }

  private async read(): Promise<void> {
    let next: () => Promise<{ done?: boolean; value?: Uint8Array }>;
    if (this.input instanceof ReadableStream) {
      const reader = this.input.getReader();
      next = () => reader.read();
      this.stop = () => void reader.cancel().catch(done);
    } else {
      const chunks = this.input[Symbol.asyncIterator]();
      next = () => chunks.next();
      this.stop = () => void chunks.return?.()?.catch(done);
    }
    try {
      for (;;) {
        const { done, value } = await next();
        if (done || !value || this.ended || this.closed) break;
        this.onData(value);
      }
    } catch (e) {
      if (!this.ended && !this.closed) this.onerror?.(e instanceof Error ? e : new Error(String(e)));
    }
    this.onEnd();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.sendJson(JSON.stringify(message));
  }

  /** Writes one message already serialized (`json` is JSON.stringify of a JSON-RPC message). */
  sendJson(json: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('stdio transport is closed'));
    // After the write, on the next turn: a collection takes ~1 ms, and the reply should not wait on it.
    if (++this.written % GC_EVERY_MESSAGES === 0) setImmediate(collect);
    try {
      this.output.write(`${json}\n`);
      const flushing = this.output.flush();
      if (flushing instanceof Promise) return flushing.then(done, this.onStdoutError);
    } catch (e) {
      // The client closed its end (EPIPE): nothing more can be said to it.
      this.onStdoutError(e);
    }
    return Promise.resolve();
  }

  /** Resolves once what was written has gone (at most a second: a stuck pipe must not hold the exit). */
  drained(): Promise<void> {
    let flushing: unknown;
    try {
      flushing = this.output.flush();
    } catch {
      return Promise.resolve();
    }
    if (!(flushing instanceof Promise)) return Promise.resolve();
    return Promise.race([flushing.then(done, done), new Promise<void>((r) => setTimeout(r, 1000))]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopReading();
    this.onclose?.();
  }

  private stopReading(): void {
    this.stop?.();
    this.pending = [];
    this.pendingBytes = 0;
  }

  private onData(data: Uint8Array): void {
    let start = 0;
    let nl = data.indexOf(10);
    while (nl >= 0) {
      if (this.discarding) this.discarding = false;
      else {
        const line =
          this.pending.length === 0
            ? data.subarray(start, nl)
            : Buffer.concat([...this.pending, data.subarray(start, nl)]);
        this.pending = [];
        this.pendingBytes = 0;
        this.deliver(utf8.decode(line));
        if (this.closed) return;
      }
      start = nl + 1;
      nl = data.indexOf(10, start);
    }
    if (start < data.length && !this.discarding) {
      this.pending.push(data.subarray(start));
      this.pendingBytes += data.length - start;
      if (this.pendingBytes > MAX_LINE_BYTES) {
        this.pending = [];
        this.pendingBytes = 0;
        this.discarding = true;
        this.onerror?.(new Error(`skipped a message over ${MAX_LINE_BYTES} bytes`));
      }
    }
  }

  private deliver(line: string): void {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.trim() === '') return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      // Skipped, as the SDK does (a reply with no id would break clients), but not silently.
      this.onerror?.(new Error(`skipped a line that is not JSON (${text.length} characters)`));
      return;
    }
    const problem = malformed(message);
    if (problem) {
      const id = (message as { id?: unknown } | null)?.id;
      if (typeof id === 'string' || typeof id === 'number')
        this.send({ jsonrpc: '2.0', id, error: { code: problem.code, message: problem.message } }).catch(
          () => {},
        );
      else this.onerror?.(new Error(`skipped a line: ${problem.message}`));
      return;
    }
    try {
      this.onmessage?.(message as JSONRPCMessage);
    } catch (e) {
      this.onerror?.(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private onEnd(): void {
    if (this.ended || this.closed) return;
    this.ended = true;
    // A last line without its newline is still a message the client sent.
    const last = this.discarding ? undefined : utf8.decode(Buffer.concat(this.pending));
    this.stopReading();
    if (last) this.deliver(last);
    if (this.closed) return;
    if (this.oninputend) this.oninputend();
    else void this.close();
  }

  private readonly onStdoutError = (e: unknown): void => {
    if (this.closed) return;
    this.onerror?.(e instanceof Error ? e : new Error(String(e)));
    void this.close();
  };
}

const done = (): void => undefined;

/** A JSON object (not an array, not null): what params and `_meta` must be. */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Why a parsed line is not a JSON-RPC 2.0 request, notification or response MCP accepts (params
 * and `_meta` must be objects), or undefined when it is; the server's own checks see it next.
 */
function malformed(m: unknown): { code: number; message: string } | undefined {
  const invalid = (message: string) => ({ code: -32600, message: `Invalid request: ${message}` });
  if (!isObject(m)) return invalid('a message must be a JSON object');
  if (m.jsonrpc !== '2.0') return invalid('"jsonrpc" must be "2.0"');
  if (typeof m.method === 'string') {
    if (m.params === undefined) return undefined;
    if (!isObject(m.params)) return { code: -32602, message: 'Invalid params: "params" must be an object' };
    if ('_meta' in m.params && !isObject(m.params._meta))
      return { code: -32602, message: 'Invalid params: "params._meta" must be an object' };
    return undefined;
  }
  const hasId = typeof m.id === 'string' || typeof m.id === 'number';
  if (hasId && ('result' in m || 'error' in m)) return undefined;
  return invalid('neither a request, a notification nor a response');
}
