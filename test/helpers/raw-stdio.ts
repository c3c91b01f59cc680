/**
 * The compiled binary over stdio with no MCP client in between: tests write raw bytes to its stdin
 * and read every line of its stdout, so they can send what no SDK would (garbage, wrong versions,
 * batches) and check that stdout carries nothing but JSON-RPC.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SERVER_BIN } from './client.ts';

export const ERA_2026 = '2026-07-28';
export const ERA_2025 = '2025-06-18';

/** The 2026-era envelope: every request carries the protocol version and client facts in _meta. */
export const meta2026 = {
  'io.modelcontextprotocol/protocolVersion': ERA_2026,
  'io.modelcontextprotocol/clientInfo': { name: 'h8-fuzz', version: '0.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

export interface RawServer {
  child: ChildProcessWithoutNullStreams;
  /** Every stdout line so far, raw. */
  lines: string[];
  /** Lines that are not JSON-RPC 2.0 messages (must stay empty); bytes left unterminated at exit too. */
  strays: string[];
  /** Bytes after the last newline on stdout so far: a message still arriving, or bytes never terminated. */
  partial(): string;
  messages: Record<string, unknown>[];
  stderr(): string;
  write(data: string | Uint8Array): Promise<void>;
  /** Sends one request and waits for the response with its id. */
  request(msg: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
  waitFor(id: unknown, timeoutMs?: number): Promise<Record<string, unknown>>;
  alive(): boolean;
  /** Resident set size of the server process now, in MB (Linux). */
  rssMb(): number;
  /** Peak resident set size (VmHWM), in MB. */
  peakRssMb(): number;
  /**
   * Ends stdin and waits for the exit (SIGKILL after 3 s) and the end of stdout. Rejects if the server,
   * exiting by itself, left bytes on stdout without a closing newline: no client could read them.
   */
  close(): Promise<void>;
}

const isJsonRpcMessage = (m: unknown): boolean => {
  if (!m || typeof m !== 'object' || Array.isArray(m)) return false;
  const o = m as Record<string, unknown>;
  if (o.jsonrpc !== '2.0') return false;
  if (typeof o.method === 'string') return true;
  return 'id' in o && ('result' in o || 'error' in o);
};

export function startRaw(env: Record<string, string>, args: string[] = []): RawServer {
  const child = spawn(SERVER_BIN, args, {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const strays: string[] = [];
  const messages: Record<string, unknown>[] = [];
  let err = '';
  let partial = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    partial += chunk;
    let nl = partial.indexOf('\n');
    while (nl >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      lines.push(line);
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        parsed = undefined;
      }
      const batch = Array.isArray(parsed) ? parsed : [parsed];
      if (batch.length === 0 || !batch.every(isJsonRpcMessage)) strays.push(line.slice(0, 300));
      else messages.push(...(batch as Record<string, unknown>[]));
      nl = partial.indexOf('\n');
    }
    for (const w of waiters) w();
  });
  const stdoutEnded = new Promise<void>((resolve) => child.stdout.once('close', () => resolve()));
  child.stdout.once('end', () => {
    if (partial) strays.push(`(unterminated at exit) ${partial.slice(0, 300)}`);
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => {
    if (err.length < 200_000) err += c;
  });
  child.stdin.on('error', () => {});

  const procStatus = (field: string) => {
    try {
      const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : Number.NaN;
    } catch {
      return Number.NaN;
    }
  };

  const waitFor = (id: unknown, timeoutMs = 10_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const done = () => {
        waiters.delete(check);
        child.off('exit', check);
        clearTimeout(timer);
      };
      const check = () => {
        const found = messages.find((m) => m.id === id && ('result' in m || 'error' in m));
        if (found) {
          done();
          resolve(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          done();
          reject(
            new Error(
              `server exited (${child.exitCode ?? child.signalCode}) before answering ${id}: ${err.slice(-500)}`,
            ),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no answer to id ${JSON.stringify(id)} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiters.add(check);
      child.once('exit', check);
      check();
    });

  // Resolves once written, or at once when the server is gone (the next wait then reports the exit).
  const write = (data: string | Uint8Array) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null || child.stdin.destroyed) return resolve();
      if (child.stdin.write(data)) return resolve();
      child.stdin.once('drain', () => resolve());
      child.once('exit', () => resolve());
    });

  return {
    child,
    lines,
    strays,
    messages,
    stderr: () => err,
    write,
    waitFor,
    async request(msg, timeoutMs) {
      await write(`${JSON.stringify(msg)}\n`);
      return waitFor(msg.id, timeoutMs);
    },
    alive: () => child.exitCode === null && child.signalCode === null,
    rssMb: () => procStatus('VmRSS'),
    peakRssMb: () => procStatus('VmHWM'),
    partial: () => partial,
    async close() {
      let killed = false;
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.stdin.end();
        const timer = setTimeout(() => {
          killed = true;
          child.kill('SIGKILL');
        }, 3000);
        await exited;
        clearTimeout(timer);
      }
      await stdoutEnded;
      // A SIGKILL may cut a line mid-write; a server that exits by itself must end every line.
      if (partial && !killed)
        throw new Error(
          `the server left unterminated bytes on stdout: ${JSON.stringify(partial.slice(0, 300))}`,
        );
    },
  };
}
