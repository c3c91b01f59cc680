/**
 * Bench building blocks: a raw JSON-RPC session over a child's stdio (no SDK, so timings are the
 * server's, not a client library's), the engine's HTTP API over its unix socket, and stats.
 */
import { readFileSync } from 'node:fs';
import type { Subprocess } from 'bun';

type Pending = { resolve: (result: unknown) => void; reject: (error: Error) => void };

/** One spawned server; `request` writes one JSON line and resolves with the matching response's result. */
export class StdioSession {
  readonly proc: Subprocess<'pipe', 'pipe', 'pipe'>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** The last few KB the server wrote to stderr (drained so a chatty server never blocks). */
  stderrTail = '';

  /** `command`: the binary, or a full argv. */
  constructor(command: string | string[], env: Record<string, string>) {
    this.proc = Bun.spawn(typeof command === 'string' ? [command] : command, {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      env,
    });
    void this.readLines();
    void this.drainStderr();
    void this.proc.exited.then((code) =>
      this.failAll(
        new Error(`server exited (code ${code})${this.stderrTail ? `: ${this.stderrTail.trim()}` : ''}`),
      ),
    );
  }

  get pid(): number {
    return this.proc.pid;
  }

  /** Resolves with `result`; rejects on a JSON-RPC error, after `timeoutMs`, or if the server exits first. */
  request(method: string, params: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<unknown> {
    const id = this.nextId++;
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
    this.send({ jsonrpc: '2.0', id, method, params });
    return reply;
  }

  notify(method: string, params: Record<string, unknown> = {}): void {
    this.send({ jsonrpc: '2.0', method, params });
  }

  /** Closes stdin (the server's cue to exit), then kills it if it lingers. */
  async close(): Promise<void> {
    try {
      this.proc.stdin.end();
    } catch {}
    const timer = setTimeout(() => this.proc.kill(), 2000);
    await this.proc.exited;
    clearTimeout(timer);
  }

  private send(message: object): void {
    this.proc.stdin.write(`${JSON.stringify(message)}\n`);
    this.proc.stdin.flush();
  }

  private async readLines(): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of this.proc.stdout) {
      buffer += decoder.decode(chunk, { stream: true });
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (line) this.dispatch(line);
        nl = buffer.indexOf('\n');
      }
    }
  }

  private async drainStderr(): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of this.proc.stderr) {
      this.stderrTail = (this.stderrTail + decoder.decode(chunk, { stream: true })).slice(-4096);
    }
  }

  /** Responses settle their request; notifications and server requests are ignored. */
  private dispatch(line: string): void {
    const message = JSON.parse(line) as {
      id?: number;
      result?: unknown;
      error?: { code: number; message: string };
    };
    const waiter = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
    if (!waiter || !('result' in message || 'error' in message)) return;
    this.pending.delete(message.id as number);
    if (message.error) waiter.reject(new Error(`JSON-RPC ${message.error.code}: ${message.error.message}`));
    else waiter.resolve(message.result);
  }

  private failAll(error: Error): void {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}

/** The Docker Engine API on a unix socket, through Bun's fetch. */
export class EngineApi {
  constructor(
    readonly socketPath: string,
    readonly version = 'v1.41',
  ) {}

  static fromEnv(dockerHost = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'): EngineApi {
    if (!dockerHost.startsWith('unix://'))
      throw new Error(`DOCKER_HOST=${dockerHost}: the bench needs a unix:// socket`);
    return new EngineApi(dockerHost.slice('unix://'.length));
  }

  url(path: string): string {
    return `http://localhost/${this.version}${path}`;
  }

  /** Parsed JSON body (undefined for 204); throws on a non-2xx status or after `timeoutMs`. */
  async call(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<unknown> {
    const res = await fetch(this.url(path), {
      method,
      unix: this.socketPath,
      signal: AbortSignal.timeout(timeoutMs),
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`engine ${method} ${path}: ${res.status} ${text.trim()}`);
    return text ? JSON.parse(text) : undefined;
  }
}

export const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Peak (VmHWM) and current (VmRSS) resident memory of a process, in MiB. */
export function memory(pid: number): { hwmMiB: number; rssMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { hwmMiB: kib('VmHWM') / 1024, rssMiB: kib('VmRSS') / 1024 };
}

/** CPU time a process's main thread has run, in ms (/proc/PID/schedstat: its thread-group leader). */
export const mainThreadCpuMs = (pid: number): number =>
  Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;

/** Appends `xs` to the series `key` of `into`, starting it when new. */
export function push(into: Record<string, number[]>, key: string, ...xs: number[]): void {
  const series = into[key] ?? [];
  series.push(...xs);
  into[key] = series;
}

/** Linear-interpolated percentile, p in [0, 100]. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (rank - lo);
}

export const median = (xs: readonly number[]): number => percentile(xs, 50);

export interface Summary {
  n: number;
  median: number;
  p10: number;
  p25: number;
  p75: number;
  p90: number;
  min: number;
  max: number;
}

export function summarize(xs: readonly number[]): Summary {
  return {
    n: xs.length,
    median: median(xs),
    p10: percentile(xs, 10),
    p25: percentile(xs, 25),
    p75: percentile(xs, 75),
    p90: percentile(xs, 90),
    min: Math.min(...xs),
    max: Math.max(...xs),
  };
}

/** Runs `fn` `warmup` times untimed, then `n` times sequentially; returns milliseconds per run. */
export async function timeRuns(n: number, warmup: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times;
}
