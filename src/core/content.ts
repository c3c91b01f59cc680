/**
 * The contract of prompt and resource builders, the counterpart of the tool contract: what a builder
 * gets (the engine session, never the transport or the safety settings) and how its arguments complete.
 */
import type { EngineSession } from './engine.ts';
import type { LogFilter } from './fence.ts';
import type { Limits } from './limits.ts';

export interface ContentContext {
  engine: EngineSession;
  signal: AbortSignal;
  limits: Limits;
  /** How container text that reads like an instruction is screened (SAFETY_LOG_FILTER); builders fence with it. */
  logFilter: LogFilter;
  /** The caller is remote (HTTP): host paths it would show are HIDDEN (host-details.ts `hostPath`). */
  remote?: boolean;
}

/**
 * `container`: any container; `running_container`: running ones (stats need it);
 * `container_list`: a comma-separated list, completing its last item.
 */
export type CompleteKind = 'container' | 'running_container' | 'container_list';
