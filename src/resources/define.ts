/**
 * A resource is data, like a tool: a fixed URI or a URI template, what it holds, how to read it and,
 * optionally, how to watch it for changes (for subscriptions). Reading goes through runContent
 * (engine, timeout, redaction, errors); the definition only fetches and fences.
 */

import type Dockerode from 'dockerode';
import type { CompleteKind, ContentContext } from '../core/content.ts';
import type { EngineAccess } from '../core/engine.ts';
import type { Toolset } from '../core/toolsets.ts';
import { errorKind } from '../docker/errors.ts';
import { containerRefOf } from '../docker/names.ts';

export interface ResourceContent {
  /** `text/html;profile=mcp-app`: an MCP App view (HTML a host renders in a sandboxed frame). */
  mimeType: 'text/plain' | 'application/json' | 'text/html;profile=mcp-app';
  text: string;
  /** Sent beside the text (an MCP App's `ui` settings: its CSP, its border). */
  _meta?: Record<string, unknown>;
}

/** What a watcher gets: the engine (no timeout: it lives as long as the subscription), a stop signal, a way to say "changed". */
export interface WatchContext {
  engine: EngineAccess;
  signal: AbortSignal;
  /** Call on every change; the caller throttles the notifications. */
  changed(): void;
}

interface Common<V extends string> {
  /** Short id used by SAFETY_ALLOWED_RESOURCES (the URI or template works too). */
  name: string;
  title: string;
  description: string;
  mimeType: ResourceContent['mimeType'];
  read(vars: Record<V, string>, ctx: ContentContext): Promise<ResourceContent>;
  /** Refuses a subscription to something that does not exist (e.g. a container), before watching. */
  check?(vars: Record<V, string>, ctx: ContentContext): Promise<void>;
  /** Runs until `signal` aborts, calling `changed()`; resolves when it stops for good. */
  watch?(vars: Record<V, string>, ctx: WatchContext): Promise<void>;
  /** The toolset that switches it on (set in index.ts, like the tools' toolsets). */
  toolset?: Toolset;
  /** The tools whose data it shows: served only when each passes the caller's gate (set in index.ts). */
  uses?: readonly string[];
  /**
   * Text this server ships, not engine data (an MCP App's HTML): neither redacted nor cut by the
   * response cap, since an edited page would not run; hosts render it, models do not read it.
   */
  whole?: boolean;
}

export interface StaticResource extends Common<never> {
  uri: string;
}

export interface TemplateResource<V extends string = string> extends Common<V> {
  /** RFC 6570 level 1: `{name}` segments, each one path segment. */
  uriTemplate: string;
  complete?: Partial<Record<V, CompleteKind>>;
}

export type AnyResource = StaticResource | TemplateResource;

/** A resource in the catalogue: its toolset and the tools it uses are known. */
export type CataloguedResource = AnyResource & { toolset: Toolset; uses: readonly string[] };

export const defineResource = (def: StaticResource): StaticResource => def;
export const defineTemplate = <V extends string>(def: TemplateResource<V>): TemplateResource<V> => def;

export const isTemplate = (r: AnyResource): r is TemplateResource => 'uriTemplate' in r;

/** The variable of an engine template (the pipeline's `engine`, as tools take it). */
const ENGINE_VAR = 'engine';

const byEngine = new WeakSet<AnyResource>();

/** Whether `r` is the `{engine}` variant of a resource (onNamedEngine made it). */
export const isByEngine = (r: AnyResource): boolean => byEngine.has(r);

/** The engine a URI of `r` names (an `{engine}` template's variable), and the other variables. */
export function engineOf(
  r: AnyResource,
  vars: Record<string, string>,
): { engine: string | undefined; vars: Record<string, string> } {
  if (!isByEngine(r)) return { engine: undefined, vars };
  const { [ENGINE_VAR]: engine, ...rest } = vars;
  return { engine, vars: rest };
}

/**
 * The same resource on a named engine: `container://logs/{container_id}` becomes
 * `container://{engine}/logs/{container_id}`, `docker://containers` the template
 * `docker://{engine}/containers`. Listed only when several engines are configured; the server takes
 * `{engine}` out of the variables and reads on that engine.
 */
export function onNamedEngine<R extends AnyResource & { toolset: Toolset; uses: readonly string[] }>(
  r: R,
): TemplateResource & { toolset: Toolset; uses: readonly string[] } {
  const uri = isTemplate(r) ? r.uriTemplate : r.uri;
  const at = uri.indexOf('://') + 3;
  const { uri: _fixed, ...rest } = r as R & { uri?: string };
  const out = {
    ...rest,
    name: `${r.name}_on_engine`,
    description: `${r.description} On the named engine.`,
    uriTemplate: `${uri.slice(0, at)}{${ENGINE_VAR}}/${uri.slice(at)}`,
  } as TemplateResource & { toolset: Toolset; uses: readonly string[] };
  byEngine.add(out);
  return out;
}

const matchers = new WeakMap<TemplateResource, { re: RegExp; names: string[] }>();

/** The variables of `uri` if it fits the template; `{x}` matches one non-empty path segment. */
export function matchTemplate(t: TemplateResource, uri: string): Record<string, string> | undefined {
  let m = matchers.get(t);
  if (!m) {
    const names: string[] = [];
    const source = t.uriTemplate
      .split(/(\{\w+\})/)
      .map((part) => {
        const v = /^\{(\w+)\}$/.exec(part);
        if (!v) return part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
        names.push(v[1] as string);
        return '([^/?#]+)';
      })
      .join('');
    m = { re: new RegExp(`^${source}$`), names };
    matchers.set(t, m);
  }
  const hit = m.re.exec(uri);
  if (!hit) return undefined;
  const vars: Record<string, string> = {};
  try {
    m.names.forEach((n, i) => {
      vars[n] = decodeURIComponent(hit[i + 1] as string);
    });
  } catch {
    return undefined; // malformed percent-encoding: not ours
  }
  return vars;
}

/** The resource (and its variables) a URI names, among those listed. */
export function resolveUri<R extends AnyResource>(
  resources: readonly R[],
  uri: string,
): { resource: R; vars: Record<string, string> } | undefined {
  for (const r of resources) {
    if (!isTemplate(r)) {
      if (r.uri === uri) return { resource: r, vars: {} };
      continue;
    }
    const vars = matchTemplate(r, uri);
    if (vars) return { resource: r, vars };
  }
  return undefined;
}

/**
 * A template's variables, each naming a container (those that complete to one) checked by the rule the
 * tools' `container_id` follows, so a NUL, a newline or '..' in a URI is refused naming the variable
 * before the engine is asked.
 */
export function templateVars(r: AnyResource, vars: Record<string, string>): Record<string, string> {
  if (!isTemplate(r)) return vars;
  for (const [name, value] of Object.entries(vars)) if (r.complete?.[name]) containerRefOf(value, name);
  return vars;
}

/**
 * Empty list = all; otherwise by name, URI or URI template. A tool's view (an MCP App) is not data the
 * list chooses: it goes with its tool, which names it, and is served exactly when the tool is listed.
 */
export const resourceAllowed = (r: AnyResource, allowed: readonly string[]): boolean =>
  allowed.length === 0 ||
  r.mimeType === 'text/html;profile=mcp-app' ||
  allowed.includes(r.name) ||
  allowed.includes(isTemplate(r) ? r.uriTemplate : r.uri);

/** Sleeps `ms` or until the signal aborts (then resolves early; callers check the signal). */
export const pause = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/**
 * The loop a container's watcher runs: `step` on a connected client, `everyMs` apart, until the signal
 * aborts. A removed container ends the watch after one last change (so the client reads the error);
 * an outage forgets the connection, and the next round reconnects.
 */
export async function watchContainer(
  { engine, signal, changed }: WatchContext,
  everyMs: number,
  step: (docker: Dockerode) => Promise<void>,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await step(await engine.client(signal));
    } catch (e) {
      if (signal.aborted) return;
      const kind = errorKind(e);
      if (kind === 'not_found') {
        changed();
        return;
      }
      if (kind === 'engine_unreachable') engine.invalidate();
    }
    await pause(everyMs, signal);
  }
}
