import type { AnyTool } from '../core/tool.ts';
import type { Toolset } from '../core/toolsets.ts';

/** Who may do what: the caller's safety profile (one per server today; per credential over HTTP). */
export interface SafetyProfile {
  allowModerate: boolean;
  allowDestructive: boolean;
  readOnly: boolean;
  allowedTools: string[];
  deniedTools: string[];
  /** The toolsets switched on (--toolsets, or a credential's `toolsets`); absent = the defaults. */
  toolsets?: readonly Toolset[];
  /**
   * Set when the profile belongs to an HTTP credential (e.g. "profile 'read-only'"): refusals then tell
   * the caller to ask for a wider profile, not to restart a server they do not run.
   */
  origin?: string;
}

export type GateDecision = { allowed: true } | { allowed: false; reason: string; hint: string };

/**
 * One predicate for both tools/list and tools/call, so the list and the refusal can never disagree.
 * Deny wins over allow; read-only wins over the tiers.
 */
export function gate(tool: AnyTool, profile: SafetyProfile): GateDecision {
  const decision = serverGate(tool, profile);
  if (decision.allowed || profile.origin === undefined) return decision;
  return {
    allowed: false,
    reason: decision.reason.replace('the server is read-only', 'your credential is read-only'),
    hint: `Your credential has ${profile.origin}, which does not allow it; ask the server's operator for a profile that does.`,
  };
}

function serverGate(tool: AnyTool, profile: SafetyProfile): GateDecision {
  if (profile.deniedTools.includes(tool.name))
    return deny(`${tool.name} is denied by configuration`, 'Remove it from SAFETY_DENIED_TOOLS to use it.');
  if (profile.allowedTools.length > 0 && !profile.allowedTools.includes(tool.name))
    return deny(`${tool.name} is not in the allowed tool list`, 'Add it to SAFETY_ALLOWED_TOOLS to use it.');
  if (tool.safety === 'safe') return { allowed: true };
  if (profile.readOnly)
    return deny(
      `${tool.name} changes state and the server is read-only`,
      'Restart without --read-only to use it.',
    );
  if (tool.safety === 'moderate' && !profile.allowModerate)
    return deny(
      `${tool.name} changes state and moderate operations are disabled`,
      'Set SAFETY_ALLOW_MODERATE_OPERATIONS=true to allow it.',
    );
  if (tool.safety === 'destructive' && !profile.allowDestructive)
    return deny(
      `${tool.name} is destructive and destructive operations are disabled`,
      'Set SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS=true to allow it.',
    );
  return { allowed: true };
}

const deny = (reason: string, hint: string): GateDecision => ({ allowed: false, reason, hint });
