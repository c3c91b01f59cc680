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
];

/** The refusal for a call Podman cannot answer, or undefined when it can. */
export function podmanRefusal(engineName: string, call: Pick<EngineCall, 'path'>): ToolError | undefined {
  const gap = PODMAN_LACKS.find((g) => g.path.test(call.path));
  if (!gap) return undefined;
  return new ToolError('invalid_argument', `engine '${engineName}' is Podman, which has no ${gap.missing}`, {
    hint: 'Use a Docker engine for this operation.',
    retryable: false,
  });
}
