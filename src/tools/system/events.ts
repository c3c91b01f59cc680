/**
 * A bounded read of the engine's event stream: it returns when enough events arrived, the wait
 * elapsed, or `until` passed, whichever comes first, so a call can never hang on a quiet engine.
 */
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { shortId } from '../../docker/names.ts';
import { consume, engineStream, LineSplitter } from '../../docker/streams.ts';
import { engineFilters, FilterMap, TimeEnd, TimePoint } from '../params.ts';
import { timeWindow } from '../time.ts';
import { HealthExecs } from './health-execs.ts';

interface EngineEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

/** The Engine API's event filters (Podman's `pod` too). */
const EVENT_FILTERS = [
  'config',
  'container',
  'daemon',
  'event',
  'image',
  'label',
  'network',
  'node',
  'plugin',
  'pod',
  'scope',
  'secret',
  'service',
  'type',
  'volume',
];

/** Attributes worth a model's attention; the rest (labels, mostly) are noise. */
const KEY_ATTRIBUTES = ['image', 'exitCode', 'signal', 'container', 'type', 'driver'] as const;

const EventRow = Type.Object({
  time: Type.String(),
  type: Type.String(),
  action: Type.String(),
  id: Type.String({ description: 'Short ID, or the name for networks and volumes' }),
  name: Type.Optional(Type.String()),
  attributes: Type.Optional(Type.Record(Type.String(), Type.String())),
});

export function eventRow(e: EngineEvent) {
  const attrs = e.Actor?.Attributes ?? {};
  const id = e.Actor?.ID ?? '';
  const picked: Record<string, string> = {};
  for (const k of KEY_ATTRIBUTES) {
    const v = attrs[k];
    if (v !== undefined && v !== '') picked[k] = k === 'container' ? shortId(v) : v;
  }
  const ms = e.timeNano ? Math.floor(e.timeNano / 1e6) : (e.time ?? 0) * 1000;
  return {
    time: new Date(ms).toISOString(),
    type: e.Type ?? '',
    action: e.Action ?? '',
    // Image IDs are digests; network, volume and plugin IDs read better whole (or are names).
    id: /^(sha256:)?[0-9a-f]{64}$/.test(id) ? shortId(id) : id,
    ...(attrs.name && attrs.name !== id && { name: attrs.name }),
    ...(Object.keys(picked).length > 0 && { attributes: picked }),
  };
}

const askedForExecs = (filters: Record<string, string[]> | undefined) =>
  (filters?.event ?? []).some((e) => e.startsWith('exec_'));

export const dockerEvents = defineTool({
  name: 'docker_events',
  title: 'Engine events',
  description: 'Engine events in a window, up to max_events/max_wait.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object(
    {
      since: TimePoint,
      until: TimeEnd,
      filters: FilterMap('e.g. {"event":["die"]}'),
      max_events: Type.Optional(Type.Integer({ minimum: 1, default: 100 })),
      max_wait: Type.Optional(Type.Number({ minimum: 0.1, maximum: 60, default: 5, description: 'Seconds' })),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    events: Type.Array(EventRow),
    count: Type.Integer(),
    health_checks: Type.Optional(
      Type.Array(Type.Object({ container: Type.String(), runs: Type.Integer(), failed: Type.Integer() }), {
        description:
          'Health check runs left out of events (3 exec events each); filter by an exec_ event to list them',
      }),
    ),
    ended: Type.Union(
      [Type.Literal('max_events'), Type.Literal('max_wait'), Type.Literal('until'), Type.Literal('closed')],
      { description: 'What ended the read' },
    ),
    note: Type.Optional(Type.String({ description: 'A limit the request met' })),
  }),
  timeoutArg: 'max_wait',
  // Actions carry exec'd command lines and attributes carry container-set labels.
  untrusted: { events: 'engine events' },
  narrowHint: 'Use filters (type, event, container), a narrower since/until, or max_events.',
  handler: async (args, { engine: { docker }, signal, limits }) => {
    const now = Date.now();
    const { since, until } = timeWindow(args, now);
    // The engine streams the events of now for a since still to come, as if it were not given.
    if (since !== undefined && since * 1000 > now + 1000)
      throw new ToolError('invalid_argument', `invalid argument 'since': '${args.since}' is in the future`, {
        hint: 'Give a past time or a duration ago (10m), or leave since out and set max_wait to wait for events from now.',
      });
    // The engine ignores a filter key it does not know, and would send every event.
    const unknown = Object.keys(args.filters ?? {}).find((k) => !EVENT_FILTERS.includes(k));
    if (unknown !== undefined)
      throw new ToolError('invalid_argument', `invalid argument 'filters.${unknown}': not an event filter`, {
        hint: `Filter by ${EVENT_FILTERS.join(', ')}.`,
      });
    const max = Math.min(args.max_events ?? 100, limits.maxListResults);
    // If the stream ends by itself, `until` passed, or without one the engine went away.
    let ended: 'max_events' | 'max_wait' | 'until' | 'closed' = until === undefined ? 'closed' : 'until';

    // One local stop for the wait, one for enough events; the call's signal (cancel, timeout) still wins.
    const wait = new AbortController();
    const enough = new AbortController();
    const timer = setTimeout(() => wait.abort(), (args.max_wait ?? 5) * 1000);
    const read = AbortSignal.any([signal, wait.signal, enough.signal]);
    const sorted = new EventSort(
      max,
      // Exec events asked for by name are listed, a health check's included.
      askedForExecs(args.filters) ? undefined : (ready) => new HealthExecs(docker, signal, ready),
    );
    sorted.onFull = () => enough.abort();
    const lines = new LineSplitter((line) => {
      if (!line.trim()) return;
      try {
        sorted.add(JSON.parse(line) as EngineEvent);
      } catch {
        // A line that is not JSON is not an event; skip it rather than fail the read.
      }
    });
    try {
      const stream = await engineStream(
        docker,
        '/events',
        {
          ...(since !== undefined && { since }),
          ...(until !== undefined && { until }),
          ...(args.filters && { filters: engineFilters(args.filters) }),
        },
        read,
      );
      await consume(
        stream,
        (chunk) => {
          lines.push(chunk);
          return sorted.full ? false : undefined;
        },
        read,
      );
      if (sorted.full) ended = 'max_events';
    } catch (e) {
      if (signal.aborted || !(wait.signal.aborted || enough.signal.aborted)) throw e;
      ended = enough.signal.aborted ? 'max_events' : 'max_wait';
    } finally {
      clearTimeout(timer);
    }
    const { events, checks } = await sorted.result();
    const asked = args.max_events ?? 100;
    return {
      events,
      count: events.length,
      ended,
      ...(checks.length > 0 && { health_checks: checks }),
      ...(asked > max && { note: `max_events ${asked} lowered to ${max} (--max-list-results)` }),
    };
  },
});

/**
 * The events read, in order, up to `max` listed; health check runs counted by container rather than
 * listed (when `checks` is given). `onFull` runs once `max` are listed, which may be after an event's
 * container was looked up.
 */
class EventSort {
  private readonly raw: EngineEvent[] = [];
  private next = 0;
  private readonly listed: EngineEvent[] = [];
  private readonly runs = new Map<string, { container: string; runs: number; failed: number }>();
  private readonly health?: HealthExecs;
  full = false;
  onFull?: () => void;

  constructor(
    private readonly max: number,
    checks: ((ready: () => void) => HealthExecs) | undefined,
  ) {
    this.health = checks?.(() => this.advance());
  }

  add(e: EngineEvent) {
    if (this.full) return;
    this.raw.push(e);
    this.advance();
  }

  private advance() {
    while (!this.full && this.next < this.raw.length) {
      const e = this.raw[this.next] as EngineEvent;
      const kind = this.health?.classify(e) ?? 'other';
      if (kind === 'unknown') return;
      this.next++;
      if (kind === 'other') {
        this.listed.push(e);
        if (this.listed.length >= this.max) {
          this.full = true;
          this.onFull?.();
        }
      } else if (e.Action === 'exec_die') {
        const name = e.Actor?.Attributes?.name ?? shortId(e.Actor?.ID ?? '');
        const r = this.runs.get(name) ?? { container: name, runs: 0, failed: 0 };
        r.runs++;
        if (e.Actor?.Attributes?.exitCode !== '0') r.failed++;
        this.runs.set(name, r);
      }
    }
    // What is sorted no longer needs keeping.
    if (this.next === this.raw.length) {
      this.raw.length = 0;
      this.next = 0;
    }
  }

  async result() {
    await this.health?.settled();
    this.advance();
    return { events: this.listed.map(eventRow), checks: [...this.runs.values()] };
  }
}
