import type { AnyTool } from '../core/tool.ts';
import { DEFAULT_TOOLSETS, type Toolset } from '../core/toolsets.ts';

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
 * What is asked beyond the tool: the call's arguments and the engine it runs on. A listing asks
 * without either ("allowed on at least one engine, for some arguments"); a call gives both, so
 * argument escalation and per-engine ceilings can refuse it here.
 */
export interface GateCall {
  args?: Record<string, unknown>;
  /** The engine's name; 'default' today. */
  engine?: string;
}

/** A prompt or resource as the gate sees it: its toolset and the tools whose data it shows. */
export interface GatedContent {
  toolset: Toolset;
  uses: readonly string[];
}

/** The toolsets a profile switches on. */
export const toolsetsOf = (profile: SafetyProfile): readonly Toolset[] =>
  profile.toolsets ?? DEFAULT_TOOLSETS;

/**
 * One predicate for both tools/list and tools/call, so the list and the refusal can never disagree.
 * Deny wins over allow; read-only wins over the tiers. The words of a refusal come from where the
 * profile came from: the server's own settings name the flag, a credential's say to ask the operator.
 */
export function gate(tool: AnyTool, profile: SafetyProfile, _call: GateCall = {}): GateDecision {
  return decide(refusalOf(tool, profile), profile);
}

/**
 * A prompt or resource: listed and served only when its toolset is on and every tool whose data it
 * shows passes the caller's gate. `tools` finds a tool by name; a `uses` name it does not know refuses.
 */
export function gateContent(
  item: GatedContent,
  tools: (name: string) => AnyTool | undefined,
  profile: SafetyProfile,
  call: GateCall = {},
): GateDecision {
  if (!toolsetsOf(profile).includes(item.toolset))
    return decide(toolsetRefusal(`it belongs to toolset '${item.toolset}'`, item.toolset), profile);
  for (const name of item.uses) {
    const tool = tools(name);
    if (!tool)
      return {
        allowed: false,
        reason: `it shows data of ${name}, which this server does not have`,
        hint: 'Report it: the server is misconfigured.',
      };
    const d = gate(tool, profile, { engine: call.engine });
    if (!d.allowed) return { allowed: false, reason: `it uses ${name}, and ${d.reason}`, hint: d.hint };
  }
  return ALLOWED;
}

const ALLOWED: GateDecision = { allowed: true };

/** A refusal in the words of the profile's origin: the server's flag, or "ask the operator". */
function decide(r: Refusal | undefined, profile: SafetyProfile): GateDecision {
  if (!r) return ALLOWED;
  if (profile.origin === undefined) return { allowed: false, reason: r.server, hint: r.flag };
  return {
    allowed: false,
    reason: r.credential,
    hint: `Your credential has ${profile.origin}, which does not allow it; ask the server's operator for a profile that does.`,
  };
}

/** Why a tool is refused: as the server says it (with the flag that allows it) and as a credential's. */
interface Refusal {
  server: string;
  flag: string;
  credential: string;
}

function refusalOf(tool: AnyTool, profile: SafetyProfile): Refusal | undefined {
  const n = tool.name;
  if (profile.deniedTools.includes(n))
    return {
      server: `${n} is denied by configuration`,
      flag: 'Remove it from SAFETY_DENIED_TOOLS to use it.',
      credential: `${n} is denied to your credential`,
    };
  if (profile.allowedTools.length > 0 && !profile.allowedTools.includes(n))
    return {
      server: `${n} is not in the allowed tool list`,
      flag: 'Add it to SAFETY_ALLOWED_TOOLS to use it.',
      credential: `${n} is not among the tools your credential allows`,
    };
  if (tool.toolset !== undefined && !toolsetsOf(profile).includes(tool.toolset))
    return toolsetRefusal(`${n} belongs to toolset '${tool.toolset}'`, tool.toolset);
  if (tool.safety === 'safe') return undefined;
  if (profile.readOnly)
    return {
      server: `${n} changes state and the server is read-only`,
      flag: 'Restart without --read-only to use it.',
      credential: `${n} changes state and your credential is read-only`,
    };
  if (tool.safety === 'moderate' && !profile.allowModerate)
    return {
      server: `${n} changes state and moderate operations are disabled`,
      flag: 'Set SAFETY_ALLOW_MODERATE_OPERATIONS=true to allow it.',
      credential: `${n} changes state and your credential does not allow moderate operations`,
    };
  if (tool.safety === 'destructive' && !profile.allowDestructive)
    return {
      server: `${n} is destructive and destructive operations are disabled`,
      flag: 'Set SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS=true to allow it.',
      credential: `${n} is destructive and your credential does not allow destructive operations`,
    };
  return undefined;
}

const toolsetRefusal = (what: string, toolset: Toolset): Refusal => ({
  server: `${what}, which is not switched on`,
  flag: `Add ${toolset} to --toolsets (MCP_DOCKER_TOOLSETS) to use it.`,
  credential: `${what}, which your credential does not switch on`,
});
