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
    ended: Type.Union(
      [Type.Literal('max_events'), Type.Literal('max_wait'), Type.Literal('until'), Type.Literal('closed')],
      { description: 'What ended the read' },
    ),
    note: Type.Optional(
      Type.String({ description: 'A limit the request met, or how to leave exec events out' }),
    ),
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

    // One local stop for the wait; the call's signal (cancel, timeout) still wins and rejects.
    const wait = new AbortController();
    const timer = setTimeout(() => wait.abort(), (args.max_wait ?? 5) * 1000);
    const read = AbortSignal.any([signal, wait.signal]);
    const events: ReturnType<typeof eventRow>[] = [];
    const lines = new LineSplitter((line) => {
      if (!line.trim() || events.length >= max) return;
      try {
        events.push(eventRow(JSON.parse(line) as EngineEvent));
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
          if (events.length < max) return undefined;
          ended = 'max_events';
          return false;
        },
        read,
      );
    } catch (e) {
      if (signal.aborted || !wait.signal.aborted) throw e;
      ended = 'max_wait';
    } finally {
      clearTimeout(timer);
    }
    const asked = args.max_events ?? 100;
    const note =
      asked > max ? `max_events ${asked} lowered to ${max} (--max-list-results)` : execsNote(events);
    return { events, count: events.length, ended, ...(note && { note }) };
  },
});

/**
 * Health checks run as execs, three events a run, and can fill a window: when most of the events are
 * exec events, say how to leave them out. They are not left out here: an exec with a health check's
 * command may be anything (its environment and user are not in the event).
 */
function execsNote(events: readonly { action: string }[]): string | undefined {
  const execs = events.filter((e) => e.action.startsWith('exec_')).length;
  if (execs < 6 || execs * 2 < events.length) return undefined;
  return `${execs} of these ${events.length} events are exec events (health checks run as execs, three events a run): filters.event naming the events you want (e.g. start, die, health_status) leaves them out.`;
}
