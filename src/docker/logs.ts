/**
 * The one reader of a container's log tail. Memory stays bounded by the caller's byte budget plus a
 * fixed margin (one line of at most 16 KiB being assembled, one chunk in flight) whatever the
 * container wrote: the engine's stream is read chunk by chunk, demultiplexed, cut into lines, and only
 * the newest lines (or bytes) that fit the budget are kept; older ones fall off the front of a ring.
 * Knows nothing of MCP or of any tool.
 */
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { fromWholeLine } from '../core/cut.ts';
import type { EngineInfo } from '../core/engine.ts';
import { clean, hasControl } from '../core/fence.ts';
import { keyLineMasker } from '../core/redact.ts';
import { tailMisjoinsLines } from './podman.ts';
import {
  consume,
  demux,
  engineStream,
  LineSplitter,
  type StreamName,
  TailBytes,
  TailLines,
} from './streams.ts';

/** Marks stderr lines when both streams are read, instead of a parallel array. */
export const STDERR_PREFIX = '[err] ';

/** What the reader needs of a container: its full ID and whether it has a TTY (then nothing is framed). */
export interface LogSource {
  id: string;
  tty: boolean;
  /** The engine's own tail can misjoin split lines (podman.ts: tailMisjoinsLines); readLogTail reads around it. */
  tailMisjoins?: boolean;
}

/** The source of an inspected container, on the engine described by `engine` when the caller knows it. */
export const logSource = (info: Dockerode.ContainerInspectInfo, engine?: EngineInfo): LogSource => ({
  id: info.Id,
  tty: Boolean(info.Config.Tty),
  ...(tailMisjoinsLines(engine) && { tailMisjoins: true }),
});

/** What to ask the engine: streams (both by default), its own tail, a time window (Unix seconds). */
export interface LogQuery {
  stdout?: boolean;
  stderr?: boolean;
  tail: number | 'all';
  since?: number;
  until?: number;
  timestamps?: boolean;
  /** Keep the stream open for new lines (read with `eachLine`, which can stop early). */
  follow?: boolean;
}

/** Which lines to keep of what the engine sends. */
export interface LineBudget {
  /** At most this many lines (the newest). */
  maxLines: number;
  /** At most about this many bytes of kept text (the newest line is kept even if alone it is larger). */
  maxBytes: number;
  /**
   * Only lines passing this test are kept (all are counted in `scanned`). It sees the line cleaned,
   * as the caller will read it, and without the engine's timestamp when the query asked for them.
   */
  match?: (line: string) => boolean;
}

export interface LogTail {
  /** Oldest first, cleaned (fence.ts); stderr lines start with STDERR_PREFIX when both streams were read. */
  lines: string[];
  /** Lines read, kept or not. */
  scanned: number;
  /** Lines that passed the match (every line read without one), kept or not. */
  matched: number;
  /** Lines read that were longer than MAX_LINE_BYTES, cut there (marked '…'). */
  cut: number;
}

/**
 * The container's log stream for `query`, as the engine sends it (framed unless TTY). On an engine
 * whose own tail misjoins split lines (`src.tailMisjoins`), a tail is read forward from where it
 * starts instead (forwardStart): every line of the tail, whole, after some older ones, which a reader
 * that keeps the newest lines, bytes or a match drops (readLogTail keeps exactly `tail` lines).
 */
export async function openLogs(
  docker: Dockerode,
  src: LogSource,
  q: LogQuery,
  signal: AbortSignal,
): Promise<Readable> {
  if (!readsForward(src, q)) return request(docker, src, q, signal);
  const since = await forwardStart(docker, src, q, signal);
  return request(docker, src, since === undefined ? q : { ...q, tail: 'all', since }, signal);
}

/** Whether openLogs reads `q` forward from where the engine's tail starts. */
const readsForward = (src: LogSource, q: LogQuery): q is LogQuery & { tail: number } =>
  src.tailMisjoins === true && typeof q.tail === 'number' && q.tail > 0 && q.until === undefined;

function request(docker: Dockerode, src: LogSource, q: LogQuery, signal: AbortSignal): Promise<Readable> {
  return engineStream(
    docker,
    `/containers/${encodeURIComponent(src.id)}/logs`,
    {
      stdout: q.stdout ?? true,
      stderr: q.stderr ?? true,
      tail: String(q.tail),
      ...(q.timestamps !== undefined && { timestamps: q.timestamps }),
      ...(q.since !== undefined && { since: q.since }),
      ...(q.until !== undefined && { until: q.until }),
      ...(q.follow && { follow: true }),
    },
    signal,
  );
}

/**
 * Where a read forward must start to hold every line of the engine's tail of `query`, for an engine
 * whose tail misjoins split lines (it joins them right reading forward): the second before the oldest
 * line of its tail (asked with timestamps; the engine may give whole seconds), and no earlier than
 * `query.since`. Undefined when the tail has no line (nothing to misjoin) or its first line carries no
 * time the reader can parse: then the engine's own tail is read.
 */
async function forwardStart(
  docker: Dockerode,
  src: LogSource,
  query: LogQuery & { tail: number },
  signal: AbortSignal,
): Promise<number | undefined> {
  let first: string | undefined;
  const probe = await request(docker, src, { ...query, timestamps: true, follow: false }, signal);
  const stop = (line: string) => {
    first = line;
    return false;
  };
  await eachLine(probe, src.tty, stop, signal);
  if (first === undefined) return undefined;
  const written = Date.parse(first.slice(0, first.indexOf(' ')));
  if (Number.isNaN(written)) return undefined;
  return Math.max(query.since ?? 0, Math.floor(written / 1000) - 1);
}

/**
 * Feeds each line of a log stream to `onLine`, with the stream it came from, until the stream ends
 * or `onLine` returns false, which stops reading and closes the stream. A last line without a
 * newline is fed at the end; one longer than 16 KiB is cut (marked '…'). `stamped`: the engine was
 * asked for timestamps, which it puts before every entry, also before the rest of a line it logged in
 * pieces: such a line keeps its first timestamp only.
 */
export async function eachLine(
  stream: Readable,
  tty: boolean,
  onLine: (line: string, from: StreamName, cut: boolean) => boolean | undefined,
  signal: AbortSignal,
  stamped = false,
): Promise<void> {
  let stopped = false;
  const feed = (from: StreamName) => (line: string, cut: boolean) => {
    if (!stopped && onLine(line, from, cut) === false) stopped = true;
  };
  const splitters: Record<StreamName, LineSplitter> = {
    stdout: new LineSplitter(feed('stdout')),
    stderr: new LineSplitter(feed('stderr')),
  };
  const open: Record<StreamName, boolean> = { stdout: false, stderr: false };
  const skipping: Record<StreamName, boolean> = { stdout: false, stderr: false };
  const onChunk = demux(tty, (s, data, frameStart) => {
    if (stamped && frameStart && open[s]) skipping[s] = true;
    let rest = data;
    if (skipping[s]) {
      const space = rest.indexOf(32);
      if (space === -1) return;
      rest = rest.subarray(space + 1);
      skipping[s] = false;
    }
    if (rest.length > 0) open[s] = rest[rest.length - 1] !== 10;
    splitters[s].push(rest);
  });
  await consume(
    stream,
    (chunk) => {
      onChunk(chunk);
      return stopped ? false : undefined;
    },
    signal,
  );
  if (stopped) return;
  splitters.stdout.flush();
  splitters.stderr.flush();
}

/**
 * Keeps the newest lines within `budget`, counting every line offered; `markStderr` prefixes stderr
 * lines. Lines are cleaned first, so the byte budget counts what the caller reads (colour codes can
 * be most of a line); `stamped`: the match sees what follows the engine's timestamp.
 */
function keeper(budget: LineBudget, markStderr: boolean, stamped = false) {
  const kept = new TailLines(budget.maxLines, budget.maxBytes);
  const { match } = budget;
  let scanned = 0;
  let cut = 0;
  // A key's lines masked before the match: `grep` must neither find nor keep its body lines, which
  // without their BEGIN line would no longer read as a key's.
  const maskKeys = keyLineMasker();
  return {
    take(raw: string, from: StreamName, wasCut = false): undefined {
      scanned++;
      if (wasCut) cut++;
      const whole = hasControl(raw) ? clean(raw) : raw;
      const at = stamped ? whole.indexOf(' ') + 1 : 0;
      const text = maskKeys(whole.slice(at), from);
      if (!match || match(text)) {
        const line = at > 0 ? whole.slice(0, at) + text : text;
        kept.push(from === 'stderr' && markStderr ? STDERR_PREFIX + line : line);
      }
      return undefined;
    },
    result: (): LogTail => ({ lines: kept.lines(), scanned, matched: kept.total, cut }),
  };
}

/**
 * How many of the newest `lines` fit in `maxBytes` as the JSON strings of a list (UTF-8), at least one:
 * a reader keeps the budget of the text, and this the budget of what a result sends.
 */
export function newestFitting(lines: readonly string[], maxBytes: number): number {
  let bytes = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    bytes += Buffer.byteLength(JSON.stringify(lines[i])) + 1;
    if (bytes > maxBytes && i < lines.length - 1) return lines.length - 1 - i;
  }
  return lines.length;
}

/**
 * Reads a log stream into the newest lines within `budget`. Pure over the stream, so it is tested
 * with any Readable; `markStderr` prefixes stderr lines (a TTY stream is all stdout); `stamped` as
 * for eachLine.
 */
export async function tailLines(
  stream: Readable,
  tty: boolean,
  budget: LineBudget,
  signal: AbortSignal,
  markStderr = true,
  stamped = false,
): Promise<LogTail> {
  const keep = keeper(budget, markStderr, stamped);
  await eachLine(stream, tty, keep.take, signal, stamped);
  return keep.result();
}

/** The newest log lines of a container within `budget`; stderr marked when both streams are read. */
export async function readLogTail(
  docker: Dockerode,
  src: LogSource,
  query: LogQuery,
  budget: LineBudget,
  signal: AbortSignal,
): Promise<LogTail> {
  const both = (query.stdout ?? true) && (query.stderr ?? true);
  const stream = await openLogs(docker, src, query, signal);
  if (!readsForward(src, query)) return tailLines(stream, src.tty, budget, signal, both, query.timestamps);
  // Read forward: the newest `tail` lines are the tail; the budget and match apply to those alone.
  const window = new TailLines<string>(query.tail, WINDOW_CHARS);
  // One character tells the stream apart (and another a cut line), so the window holds plain strings.
  const hold = (line: string, from: StreamName, cut: boolean) => {
    window.push(`${from === 'stderr' ? (cut ? 'E' : 'e') : cut ? 'O' : 'o'}${line}`);
    return undefined;
  };
  await eachLine(stream, src.tty, hold, signal, query.timestamps);
  const keep = keeper(budget, both, query.timestamps);
  for (const tagged of window.lines()) {
    const t = tagged[0] as string;
    keep.take(tagged.slice(1), t === 'e' || t === 'E' ? 'stderr' : 'stdout', t === 'E' || t === 'O');
  }
  return keep.result();
}

/** Most text (in UTF-16 units) held of a forward read's newest lines before the budget and match apply. */
const WINDOW_CHARS = 32 * 1024 * 1024;

/** The last bytes of each stream, and how many were written. */
export type OutputTail = Record<StreamName, TailBytes>;

/**
 * Reads a log stream into the last `maxBytes` of stdout and of stderr (a TTY stream is all stdout);
 * into `out` when given, so a caller whose read is cut short still has what was read.
 */
export async function tailOutput(
  stream: Readable,
  tty: boolean,
  maxBytes: number,
  signal: AbortSignal,
  out?: OutputTail,
): Promise<OutputTail> {
  return (await tailOutputCounted(stream, tty, maxBytes, signal, out)).out;
}

async function tailOutputCounted(
  stream: Readable,
  tty: boolean,
  maxBytes: number,
  signal: AbortSignal,
  out: OutputTail = { stdout: new TailBytes(maxBytes), stderr: new TailBytes(maxBytes) },
) {
  const onChunk = demux(tty, (s, data) => out[s].push(data));
  await consume(stream, (chunk) => void onChunk(chunk), signal);
  return { out, frames: onChunk.frames() };
}

/**
 * Log entries asked for first. With the json-file driver an entry holds at most 16 KiB, so a flood in
 * long lines streams at most this × 16 KiB here, instead of `tail` × 16 KiB: what the HTTP client
 * allocates on the way (not what we keep) is most of a call's memory.
 */
const FIRST_TAIL = 256;

/**
 * The last `maxBytes` of a container's stdout and of its stderr among its last `tail` log entries.
 * The newest FIRST_TAIL entries first: a stream that already passed `maxBytes` there, or a log that
 * had fewer entries, cannot change by reading further back; only a stream still short is read again
 * alone with the whole `tail` (the engine filters by stream, so a flood on the other one is not sent).
 * The result is the same as one read of `tail` entries; `fullTail` says a read brought all `tail` it
 * asked for, so older output may exist. (Where openLogs reads forward, each read holds
 * its entries and possibly older ones: a short log still reads short, and the bytes are the newest.)
 */
export async function readOutputTail(
  docker: Dockerode,
  src: LogSource,
  tail: number,
  maxBytes: number,
  signal: AbortSignal,
): Promise<OutputTail & { fullTail: boolean }> {
  const first = Math.min(tail, FIRST_TAIL);
  const read = async (q: Omit<LogQuery, 'tail'>, n: number) =>
    tailOutputCounted(await openLogs(docker, src, { ...q, tail: n }, signal), src.tty, maxBytes, signal);
  const { out, frames } = await read({}, first);
  // Whether a read brought all the entries it asked for: older ones may exist (frames are entries on
  // a multiplexed stream; a TTY stream does not say).
  const full = (n: number | undefined, asked: number) => n !== undefined && n >= asked;
  if (first === tail || (frames !== undefined && frames < first))
    return Object.assign(out, { fullTail: first === tail && full(frames, tail) });
  let fullTail = false;
  for (const s of src.tty ? (['stdout'] as const) : (['stdout', 'stderr'] as const)) {
    if (out[s].total > maxBytes) continue;
    const again = await read({ stdout: s === 'stdout', stderr: s === 'stderr' }, tail);
    out[s] = again.out[s];
    fullTail ||= full(again.frames, tail);
  }
  return Object.assign(out, { fullTail });
}

/**
 * Stdout and stderr together within `max` bytes, each cut at a line start when cut: stderr gets at
 * least half the room when both overflow, and whatever stdout leaves otherwise.
 */
export function splitOutput(out: OutputTail, max: number) {
  const errMax = Math.min(out.stderr.total, Math.max(Math.floor(max / 2), max - out.stdout.total));
  const stdout = lastLines(out.stdout, max - errMax);
  const stderr = lastLines(out.stderr, errMax);
  return { stdout: stdout.text, stderr: stderr.text, truncated: stdout.cut || stderr.cut };
}

/** The last `max` bytes kept, from the first whole line within them when cut (core/cut.ts). */
function lastLines(t: TailBytes, max: number): { text: string; cut: boolean } {
  const text = t.text();
  if (t.total <= max) return { text, cut: false };
  const kept = Buffer.from(text, 'utf8');
  if (kept.length <= max) return { text, cut: true };
  return { text: fromWholeLine(kept.subarray(kept.length - max).toString('utf8')), cut: true };
}

/**
 * The newest `tail` lines of both streams of an inspected container within `maxBytes`, stderr marked;
 * `engine` is what the session knows of the engine (its kind and version decide how the tail is read).
 */
export async function recentLogLines(
  docker: Dockerode,
  engine: EngineInfo | undefined,
  info: Dockerode.ContainerInspectInfo,
  tail: number,
  maxBytes: number,
  signal: AbortSignal,
): Promise<string[]> {
  const src = logSource(info, engine);
  const got = await readLogTail(docker, src, { tail }, { maxLines: tail, maxBytes }, signal);
  return got.lines;
}
