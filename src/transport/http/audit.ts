/**
 * The audit log: JSONL, one line per tool call, prompt get and resource read, and per refusal (auth failure, limit hit, IP denied),
 * in its own file (never the application log). Lines are buffered and appended in whole-line writes
 * to an O_APPEND descriptor, so calls never wait on the disk and lines never interleave; what is
 * buffered is written on close and, as a last resort, at process exit.
 */
import { closeSync, fchmodSync, fstatSync, openSync, write, writeSync } from 'node:fs';
import { setOwn } from '../../core/copy-on-change.ts';
import { redact } from '../../core/redact.ts';
import type { Safety } from '../../core/tool.ts';
import type { Log } from '../../log.ts';
import type { Confirmation } from '../../pipeline/confirm.ts';
import type { Observed, Outcome, PipelineEnv } from '../../pipeline/run.ts';
import { BoundedMap } from './rate-limit.ts';
import { StartupError } from './tls.ts';

export type AuditEventName =
  | 'tool_call'
  | 'prompt_get'
  | 'resource_read'
  | 'auth_failure'
  | 'rate_limited'
  | 'ip_denied'
  | 'request_refused';

/** The events a client's own requests leave (never throttled: they are admitted, and limited, first). */
const CALL_EVENTS: ReadonlySet<AuditEventName> = new Set(['tool_call', 'prompt_get', 'resource_read']);

export interface AuditEvent {
  event: AuditEventName;
  clientId?: string;
  /** How `clientId` proved who it is (token, ssh, oauth); absent for an anonymous caller and stdio. */
  auth?: 'token' | 'ssh' | 'oauth';
  /** For auth failures: the client id the credential named, unproven (a Signature keyId, a known token's client). */
  claimedClientId?: string;
  ip?: string;
  tool?: string;
  safety?: Safety;
  /** For prompt_get: the prompt's name. */
  prompt?: string;
  /** For resource_read: the URI read. */
  uri?: string;
  /** The engine the call, get or read used (only with more than one engine configured). */
  engine?: string;
  /** Call arguments (secret ones already masked by the pipeline); summarised and redacted here. */
  args?: unknown;
  /** `ok` or an error kind (`not_found`, `policy_denied`…) or the refusal (`tool_calls_per_minute`…). */
  outcome: string;
  /** For a tool call that needed the user's confirmation (--confirm): what became of it. */
  confirmation?: Confirmation;
  durationMs?: number;
  /** For refusals: what was refused, for the operator (never sent to the client). */
  detail?: string;
  /** Refusals like this one (same event, client, IP, outcome) left out in the minute before. */
  suppressed?: number;
}

const MAX_STRING = 80;
const MAX_ITEMS = 10;
const MAX_DEPTH = 3;

/** Keys and short values, secrets masked by the pipeline's redaction, long values cut with their length. */
export function summarizeArgs(args: unknown): unknown {
  return shorten(redact(args), 0);
}

function shorten(value: unknown, depth: number): unknown {
  if (typeof value === 'string')
    return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…(${value.length} chars)` : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return Array.isArray(value) ? `[${value.length} items]` : '{…}';
  if (Array.isArray(value)) {
    const head = value.slice(0, MAX_ITEMS).map((v) => shorten(v, depth + 1));
    return value.length > MAX_ITEMS ? [...head, `…(${value.length - MAX_ITEMS} more)`] : head;
  }
  const out: Record<string, unknown> = {};
  // A key named __proto__ (JSON makes it an own key) is logged as the key it is.
  for (const [k, v] of Object.entries(value)) setOwn(out, k, shorten(v, depth + 1));
  return out;
}

/** One line, fields in a fixed order; absent fields are omitted rather than null. */
export function auditLine(e: AuditEvent, now: Date = new Date()): string {
  const line = {
    ts: now.toISOString(),
    event: e.event,
    client_id: e.clientId,
    auth: e.auth,
    claimed_client_id: e.claimedClientId,
    ip: e.ip,
    tool: e.tool,
    prompt: e.prompt,
    uri: e.uri,
    engine: e.engine,
    safety: e.safety,
    args: e.args === undefined ? undefined : summarizeArgs(e.args),
    outcome: e.outcome,
    confirmation: e.confirmation,
    duration_ms: e.durationMs === undefined ? undefined : Math.round(e.durationMs * 10) / 10,
    detail: e.detail,
    suppressed: e.suppressed,
  };
  return `${JSON.stringify(line)}\n`;
}

export interface Auditor {
  record(e: AuditEvent): void;
  /** Writes what is buffered and closes the file. */
  close(): void;
}

/** Records nothing: no audit file configured. */
export const noAudit: Auditor = { record() {}, close() {} };

const FLUSH_MS = 200;
const FLUSH_BYTES = 64 * 1024;

/**
 * Opens (creating 0600) the audit file. An existing file readable by others is tightened to 0600
 * with a warning: the log names clients and what they did.
 */
export function openAudit(path: string, log: Log): Auditor {
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new StartupError(
      `audit log ${path}: cannot open (${code}); check the directory exists and is writable`,
    );
  }
  const mode = fstatSync(fd).mode & 0o777;
  if (mode & 0o077) {
    fchmodSync(fd, 0o600);
    log.warn(`audit log ${path} was mode ${mode.toString(8)}; tightened to 600`);
  }

  let buffered: string[] = [];
  let bytes = 0;
  let writing = false;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    timer = undefined;
    if (writing || buffered.length === 0 || closed) return;
    const chunk = buffered.join('');
    buffered = [];
    bytes = 0;
    writing = true;
    write(fd, chunk, null, 'utf8', (err) => {
      writing = false;
      if (err) log.error(`audit log ${path}: write failed (${err.code ?? err.message})`);
      if (buffered.length > 0) schedule();
    });
  };
  const schedule = () => {
    if (bytes >= FLUSH_BYTES) queueMicrotask(flush);
    else timer ??= setTimeout(flush, FLUSH_MS);
  };
  const flushSync = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (buffered.length === 0) return;
    const chunk = buffered.join('');
    buffered = [];
    try {
      writeSync(fd, chunk);
    } catch {
      // at exit there is nobody left to tell
    }
  };
  const onExit = () => flushSync();
  process.once('exit', onExit);

  return {
    record(e) {
      if (closed) return;
      const line = auditLine(e);
      buffered.push(line);
      bytes += line.length;
      schedule();
    },
    close() {
      if (closed) return;
      flushSync();
      closed = true;
      process.off('exit', onExit);
      // An async write still in flight owns the descriptor until it completes.
      const finish = () => (writing ? setTimeout(finish, 10) : closeSync(fd));
      finish();
    },
  };
}

/**
 * A pipeline observer writing one line per tool call (`tool_call`), prompt get (`prompt_get`) and
 * resource read (`resource_read`), for `who` (over stdio: client "stdio").
 */
export function auditCalls(audit: Auditor, who: { clientId: string; ip?: string }): PipelineEnv['observe'] {
  return (call) =>
    ({ outcome, durationMs }) =>
      audit.record({
        ...auditFieldsOf(call),
        ...who,
        outcome: callOutcome(outcome),
        ...confirmationOf(outcome),
        durationMs,
      });
}

/** The audit fields of what the pipeline observed. */
export function auditFieldsOf(
  call: Observed,
): Pick<AuditEvent, 'event' | 'tool' | 'safety' | 'prompt' | 'uri' | 'args' | 'engine'> {
  const engine = call.engine === undefined ? {} : { engine: call.engine };
  switch (call.event) {
    case 'tool_call':
      return { event: call.event, tool: call.tool, safety: call.safety, args: call.args, ...engine };
    case 'prompt_get':
      return { event: call.event, prompt: call.prompt, args: call.args, ...engine };
    case 'resource_read':
      return { event: call.event, uri: call.uri, ...engine };
  }
}

/**
 * `ok`, the error kind, `input_required` when the call stopped to ask the user (its answer is the
 * next line), or `internal` when the pipeline itself threw.
 */
export const callOutcome = (outcome: Outcome | undefined) =>
  outcome === undefined
    ? 'internal'
    : outcome.ok
      ? 'ok'
      : outcome.asked
        ? 'input_required'
        : outcome.error.kind;

/** The `confirmation` field, when the call needed one. */
export const confirmationOf = (outcome: Outcome | undefined): Pick<AuditEvent, 'confirmation'> =>
  outcome?.confirmation ? { confirmation: outcome.confirmation } : {};

/**
 * At most `perMinute` lines per kind of refusal (event, client, IP, outcome): a flood of refused
 * requests must not fill the disk. The next line after a quiet-down carries how many were left out.
 * Tool calls, prompt gets and resource reads are never dropped (they are admitted, and limited, before they run).
 */
export function throttleRefusals(inner: Auditor, perMinute = 20, now: () => number = Date.now): Auditor {
  const seen = new BoundedMap<{ since: number; count: number; dropped: number }>(10_000);
  return {
    record(e) {
      if (CALL_EVENTS.has(e.event)) return inner.record(e);
      const key = `${e.event}|${e.auth ?? ''}:${e.clientId ?? ''}|${e.ip ?? ''}|${e.outcome}`;
      const t = now();
      let s = seen.get(key);
      let line = e;
      if (!s || t - s.since >= 60_000) {
        if (s?.dropped) line = { ...e, suppressed: s.dropped };
        s = { since: t, count: 0, dropped: 0 };
        seen.set(key, s);
      }
      if (s.count >= perMinute) {
        s.dropped++;
        return;
      }
      s.count++;
      inner.record(line);
    },
    close: () => inner.close(),
  };
}
