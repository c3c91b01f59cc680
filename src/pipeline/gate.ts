import type { EngineCeiling } from '../core/engine.ts';
import type { AnyTool, Escalation, Safety } from '../core/tool.ts';
import { DEFAULT_TOOLSETS, type Toolset } from '../core/toolsets.ts';
import type { ConfirmMode } from './confirm.ts';

/** Who may do what: the caller's safety profile (one per server today; per credential over HTTP). */
export interface SafetyProfile {
  allowModerate: boolean;
  allowDestructive: boolean;
  readOnly: boolean;
  allowedTools: string[];
  deniedTools: string[];
  /** The toolsets switched on (--toolsets, or a credential's `toolsets`); absent = the defaults. */
  toolsets?: readonly Toolset[];
  /** The engines this caller may use (an auth-file credential's `engines`); absent = every engine. */
  engines?: readonly string[];
  /**
   * Set when the profile belongs to an HTTP credential (e.g. "profile 'read-only'"): refusals then tell
   * the caller to ask for a wider profile, not to restart a server they do not run.
   */
  origin?: string;
  /** Which calls the user confirms (an auth-file profile's `confirm`); absent = the server's --confirm. */
  confirm?: ConfirmMode;
}

export type GateDecision = { allowed: true } | { allowed: false; reason: string; hint: string };

/**
 * What is asked beyond the tool: the call's arguments and the engine it runs on. A listing asks
 * without either ("allowed on at least one engine, for some arguments"); a call gives both, so
 * argument escalation and per-engine ceilings can refuse it here.
 */
export interface GateCall {
  args?: Record<string, unknown>;
  /** The engine the call acts on: its name and the operator's ceiling there. */
  engine?: GatedEngine;
}

/** An engine as the gate sees it (an EngineHandle is one). */
export interface GatedEngine {
  name: string;
  ceiling: EngineCeiling;
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
export function gate(tool: AnyTool, profile: SafetyProfile, call: GateCall = {}): GateDecision {
  const tier = tierOf(tool, call.args);
  const own = decide(refusalOf(tool, profile, tier), profile);
  if (!own.allowed || !call.engine) return own;
  return engineRefusal(tool, profile, tier, call.engine) ?? own;
}

/** Whether the caller may use `name` at all (a credential limited to some engines). */
export const engineAllowed = (profile: SafetyProfile, name: string): boolean =>
  profile.engines === undefined || profile.engines.includes(name);

/**
 * A listing: the tool is shown when some engine the caller may use allows it. `engines` are the
 * configured ones; the answer lists those that allow it (empty = not listed).
 */
export function enginesAllowing<E extends GatedEngine>(
  tool: AnyTool,
  profile: SafetyProfile,
  engines: readonly E[],
): E[] {
  if (!gate(tool, profile).allowed) return [];
  return engines.filter((e) => gate(tool, profile, { engine: e }).allowed);
}

/**
 * The engine's own limits: a credential limited to other engines, the operator's per-engine ceiling
 * (read-only, or no destructive operations). A profile can only narrow these; the refusal names the
 * engine and the setting.
 */
function engineRefusal(
  tool: AnyTool,
  profile: SafetyProfile,
  { tier, by }: CallTier,
  engine: GatedEngine,
): GateDecision | undefined {
  const e = engine.name;
  if (!engineAllowed(profile, e))
    return {
      allowed: false,
      reason: `engine '${e}' is not among the engines your credential allows`,
      hint: `Use one of: ${(profile.engines ?? []).join(', ') || '(none)'}; or ask the server's operator to add '${e}' to your profile's engines.`,
    };
  if (tier === 'safe') return undefined;
  const what = by === undefined ? tool.name : `${tool.name} with '${by}'`;
  const orWithout = by === undefined ? '' : `, or call without '${by}'`;
  if (engine.ceiling.readOnly)
    return {
      allowed: false,
      reason: `${what} changes state and engine '${e}' is read-only`,
      hint: `Use another engine${readOnlyWithout(tool, orWithout)}; the operator allows it with readOnly: false for engine '${e}' (config file, engines.${e}).`,
    };
  if (tier === 'destructive' && !engine.ceiling.allowDestructive)
    return {
      allowed: false,
      reason: `${what} is destructive and engine '${e}' does not allow destructive operations`,
      hint: `Use another engine${orWithout}; the operator allows it with allowDestructive: true for engine '${e}' (config file, engines.${e}).`,
    };
  return undefined;
}

/**
 * What a caller may do on an engine, whatever the tool (tool lists and toolsets aside): the figures
 * docker_list_engines shows. A unit test holds it to gate()'s verdicts for every setting.
 */
export function engineTiers(
  profile: SafetyProfile,
  ceiling: EngineCeiling,
): { readOnly: boolean; allowDestructive: boolean } {
  const writable = !ceiling.readOnly && !profile.readOnly;
  const allowDestructive = writable && ceiling.allowDestructive && profile.allowDestructive;
  // A profile may allow destructive tools and not moderate ones: each tier on its own setting.
  return { readOnly: !(writable && (profile.allowModerate || allowDestructive)), allowDestructive };
}

const RANK: Record<Safety, number> = { safe: 0, moderate: 1, destructive: 2 };

/** The tier a call runs at, and the argument that raised it there (absent: the tool's own tier). */
export interface CallTier {
  tier: Safety;
  by?: string;
}

/**
 * The tool's own tier, raised by each `escalate` argument the call sets (given, and not false or
 * null). Without arguments (a listing) it is the tool's own: a listing shows what some call may do.
 */
export function tierOf(tool: AnyTool, args?: Record<string, unknown>): CallTier {
  const own: CallTier = { tier: tool.safety };
  if (!args || !tool.escalate) return own;
  let at = own;
  for (const [arg, raise] of Object.entries(tool.escalate as Record<string, Escalation>)) {
    const v = Object.hasOwn(args, arg) ? args[arg] : undefined;
    if (v === undefined || v === null || v === false) continue;
    // A per-value escalation reads only its own keys: a value such as 'constructor' raises nothing.
    const tier =
      typeof raise === 'string'
        ? raise
        : typeof v === 'string' && Object.hasOwn(raise, v)
          ? raise[v]
          : undefined;
    if (tier && RANK[tier] > RANK[at.tier]) at = { tier, by: arg };
  }
  return at;
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

function refusalOf(tool: AnyTool, profile: SafetyProfile, { tier, by }: CallTier): Refusal | undefined {
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
  if (tier === 'safe') return undefined;
  // A call raised by an argument names it, and says that leaving it out is the other way.
  const what = by === undefined ? n : `${n} with '${by}'`;
  const orWithout = by === undefined ? '' : `, or call without '${by}'`;
  if (profile.readOnly)
    return {
      server: `${what} changes state and the server is read-only`,
      flag: `Restart without --read-only to use it${readOnlyWithout(tool, orWithout)}.`,
      credential: `${what} changes state and your credential is read-only`,
    };
  if (tier === 'moderate' && !profile.allowModerate)
    return {
      server: `${what} changes state and moderate operations are disabled`,
      flag: `Set SAFETY_ALLOW_MODERATE_OPERATIONS=true to allow it${orWithout}.`,
      credential: `${what} changes state and your credential does not allow moderate operations`,
    };
  if (tier === 'destructive' && !profile.allowDestructive)
    return {
      server: `${what} is destructive and destructive operations are disabled`,
      flag: `Set SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS=true to allow it${orWithout}.`,
      credential: `${what} is destructive and your credential does not allow destructive operations`,
    };
  return undefined;
}

const toolsetRefusal = (what: string, toolset: Toolset): Refusal => ({
  server: `${what}, which is not switched on`,
  flag: `Add ${toolset} to --toolsets (MCP_DOCKER_TOOLSETS) to use it.`,
  credential: `${what}, which your credential does not switch on`,
});

/** Leaving the raising argument out helps under read-only only when the tool alone changes nothing. */
const readOnlyWithout = (tool: AnyTool, orWithout: string) => (tool.safety === 'safe' ? orWithout : '');
