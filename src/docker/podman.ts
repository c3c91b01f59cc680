/**
 * Podman's Docker-compatible API: how to tell it answered, and what it lacks. Podman answers most of
 * the Engine API as Docker does; where it has no endpoint at all, a request is refused here with a
 * message naming Podman and what is missing, instead of the engine's bare 404 ("Not Found").
 * Knows nothing of MCP or of any tool: the table is keyed by request path.
 */
import type { EngineInfo } from '../core/engine.ts';
import { ToolError } from '../core/errors.ts';
import type { EngineCall } from './request.ts';

/** The parts of a /version answer that tell the engine's kind. */
export interface VersionAnswer {
  Components?: { Name?: string }[] | null;
  Platform?: { Name?: string } | null;
}

/**
 * 'podman' when the /version answer comes from Podman (its components name "Podman Engine"; Docker's
 * name "Engine"), else 'docker'. The probe already asks /version, so this costs no request.
 */
export function engineKind(v: VersionAnswer): NonNullable<EngineInfo['kind']> {
  const names = (v.Components ?? []).map((c) => c.Name ?? '');
  return names.some((n) => /podman/i.test(n)) ? 'podman' : 'docker';
}

/**
 * What Podman's Docker-compatible API (checked against 4.3) has no endpoint for, by path. Each entry
 * names what is missing; docs/TESTING.md lists them with the evidence. Operations Podman answers
 * differently but does have (prune filters, the build cache) are not here: their tools cope.
 */
export const PODMAN_LACKS: readonly { path: RegExp; missing: string }[] = [
  { path: /^\/(?:swarm|services|nodes|tasks)(?:\/|$)/, missing: 'Swarm API' },
  { path: /^\/configs(?:\/|$)/, missing: 'Swarm configs API' },
  { path: /^\/plugins(?:\/|$)/, missing: 'plugin API' },
  { path: /^\/distribution\//, missing: 'registry distribution API' },
  { path: /^\/containers\/[^/]+\/update$/, missing: 'container update API' },
];

/** How many conditions a `filters` query value holds: every value of every key. */
function conditions(filters: unknown): number {
  if (typeof filters !== 'string') return 0;
  try {
    const parsed = JSON.parse(filters) as Record<string, unknown>;
    return Object.values(parsed).reduce<number>(
      (n, v) => n + (Array.isArray(v) ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 1),
      0,
    );
  } catch {
    return 0;
  }
}

/** Whether a `filters` query value asks for dangling=false (Podman 4.3's Docker API refuses it on image prune). */
function danglingFalse(filters: unknown): boolean {
  if (typeof filters !== 'string') return false;
  try {
    const d = (JSON.parse(filters) as { dangling?: unknown }).dangling;
    const values = Array.isArray(d) ? d : d && typeof d === 'object' ? Object.keys(d) : [];
    return values.some((v) => String(v) === 'false' || String(v) === '0');
  } catch {
    return false;
  }
}

/**
 * Podman 4.3 matches a volume against ANY of several filter conditions where Docker requires ALL
 * (`label=a` and `label=b`, or `label` and `dangling`): a list would show more than asked, and a prune
 * would remove more. Such a call is refused; one condition means the same on both.
 */
const VOLUME_FILTERS = /^\/volumes(?:\/prune)?$/;

/** The refusal for a call Podman cannot answer (or would answer wrongly), or undefined when it can. */
export function podmanRefusal(
  engineName: string,
  call: Pick<EngineCall, 'path'> & Partial<Pick<EngineCall, 'query'>>,
): ToolError | undefined {
  const gap = PODMAN_LACKS.find((g) => g.path.test(call.path));
  if (gap)
    return new ToolError(
      'invalid_argument',
      `engine '${engineName}' is Podman, which has no ${gap.missing}`,
      {
        hint: 'Use a Docker engine for this operation.',
        retryable: false,
      },
    );
  if (call.path === '/images/prune' && danglingFalse(call.query?.filters))
    return new ToolError(
      'invalid_argument',
      `engine '${engineName}' is Podman, whose Docker API has no prune of unused tagged images (dangling=false)`,
      {
        hint: 'Prune dangling images only (leave out all), or remove chosen images with docker_remove_image.',
        retryable: false,
      },
    );
  if (VOLUME_FILTERS.test(call.path) && conditions(call.query?.filters) > 1)
    return new ToolError(
      'invalid_argument',
      `engine '${engineName}' is Podman, whose volume filters match any of several conditions where Docker requires all`,
      {
        hint: 'Give one filter condition (e.g. one label) on this engine, and narrow the result yourself.',
        retryable: false,
      },
    );
  return undefined;
}

/**
 * Whether the engine's own log tail can misjoin a line its log file holds in pieces: Podman before 4.7
 * (podman#19545) appends the pieces of a split line to the line before it when reading a tail backwards.
 * conmon splits any line longer than its 8 KiB read buffer, and a flood at any point in a read. A version
 * it cannot read counts as affected: the remedy (docker/logs.ts) is exact either way.
 */
export function tailMisjoinsLines(engine: Pick<EngineInfo, 'kind' | 'serverVersion'> | undefined): boolean {
  if (engine?.kind !== 'podman') return false;
  const m = /^(\d+)\.(\d+)/.exec(engine.serverVersion);
  if (!m) return true;
  const major = Number(m[1]);
  return major < 4 || (major === 4 && Number(m[2]) < 7);
}
