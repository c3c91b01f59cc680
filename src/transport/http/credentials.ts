/**
 * The auth file (`--auth-file`, JSON or YAML): named profiles, clients with their profile and token
 * hashes, and OAuth scope → profile. Every profile is capped by the server-wide one (the ceiling): a
 * credential never gets more than the server's own flags allow. The file is watched and re-read when
 * it changes; an edit that does not validate is logged and the last good version stays in force.
 */
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { parse as parseYaml } from 'yaml';
import { nearest } from '../../core/tool-names.ts';
import { DEFAULT_TOOLSETS, TOOLSETS, type Toolset } from '../../core/toolsets.ts';
import type { Log } from '../../log.ts';
import { type SafetyProfile, toolsetsOf } from '../../pipeline/gate.ts';
import type { ProfileResolver } from './auth-types.ts';
import type { TokenEntry } from './token.ts';

const Names = Type.Array(Type.String({ minLength: 1 }));
const ProfileSpec = Type.Object(
  {
    base: Type.Optional(Type.String()),
    read_only: Type.Optional(Type.Boolean()),
    allow_moderate: Type.Optional(Type.Boolean()),
    allow_destructive: Type.Optional(Type.Boolean()),
    allowed_tools: Type.Optional(Names),
    denied_tools: Type.Optional(Names),
    /** Toolset names, or the keywords `default` and `all`; never more than the server switches on. */
    toolsets: Type.Optional(Names),
    /** The engines a credential may use (configured engine names); absent = all of them. */
    engines: Type.Optional(Names),
    /** Which calls this credential's user confirms (destructive, all, none); absent = the server's --confirm. */
    confirm: Type.Optional(
      Type.Union([Type.Literal('destructive'), Type.Literal('all'), Type.Literal('none')]),
    ),
  },
  { additionalProperties: false },
);
const Client = Type.Object(
  {
    profile: Type.String(),
    tokens: Type.Optional(Type.Array(Type.String({ pattern: '^sha256:[0-9a-f]{64}$' }))),
  },
  { additionalProperties: false },
);
const AuthFileSchema = Type.Object(
  {
    profiles: Type.Optional(Type.Record(Type.String(), ProfileSpec)),
    // A key's minLength is not checked by a Record: blankKey below refuses empty names.
    clients: Type.Record(Type.String(), Client),
    oauth_scopes: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  { additionalProperties: false },
);
export type AuthFile = Static<typeof AuthFileSchema>;
const compiled = Compile(AuthFileSchema);

const tiers = (readOnly: boolean, allowModerate: boolean, allowDestructive: boolean): SafetyProfile => ({
  readOnly,
  allowModerate,
  allowDestructive,
  allowedTools: [],
  deniedTools: [],
});
export const BUILT_IN_PROFILES: Record<string, SafetyProfile> = {
  'read-only': tiers(true, false, false),
  moderate: tiers(false, true, false),
  full: tiers(false, true, true),
};

/** No tool has this name: an allow list holding only it allows nothing (an empty list allows all). */
const NOTHING = '(none)';

/** The most a credential can get is what both the profile and the server-wide ceiling allow. */
export function capProfile(p: SafetyProfile, ceiling: SafetyProfile): SafetyProfile {
  const a = p.allowedTools;
  const c = ceiling.allowedTools;
  const both = a.length > 0 && c.length > 0 ? a.filter((t) => c.includes(t)) : undefined;
  const served = toolsetsOf(ceiling);
  const toolsets = p.toolsets ? p.toolsets.filter((t) => served.includes(t)) : ceiling.toolsets;
  return {
    readOnly: p.readOnly || ceiling.readOnly,
    allowModerate: p.allowModerate && ceiling.allowModerate,
    allowDestructive: p.allowDestructive && ceiling.allowDestructive,
    allowedTools: both ? (both.length > 0 ? both : [NOTHING]) : a.length > 0 ? a : c,
    deniedTools: [...new Set([...p.deniedTools, ...ceiling.deniedTools])],
    ...(toolsets && { toolsets }),
    ...(p.engines && { engines: p.engines }),
    ...(p.confirm && { confirm: p.confirm }),
  };
}

/** A profile's `toolsets` list: names and the keywords `default` and `all`; an unknown name is an error. */
function toolsetList(names: readonly string[], at: string): Toolset[] {
  const out = new Set<Toolset>();
  for (const n of names) {
    if (n === 'all') for (const t of TOOLSETS) out.add(t);
    else if (n === 'default') for (const t of DEFAULT_TOOLSETS) out.add(t);
    else if ((TOOLSETS as readonly string[]).includes(n)) out.add(n as Toolset);
    else
      throw new CredentialsError(
        `${at}: unknown toolset '${n}'; known: ${TOOLSETS.join(', ')} (or default, all)`,
      );
  }
  return [...out];
}

export interface LoadedAuth {
  clients: Map<string, { profile: SafetyProfile }>;
  tokens: TokenEntry[];
  /** Scope → capped profile, in file order. */
  scopes: [string, SafetyProfile][];
}

export class CredentialsError extends Error {
  override name = 'CredentialsError';
}

/** `/clients/monitor/tokens/0` → `clients.monitor.tokens[0]`. */
const keyPath = (pointer: string) =>
  pointer
    .split('/')
    .slice(1)
    .map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((out, p) => (/^\d+$/.test(p) ? `${out}[${p}]` : out ? `${out}.${p}` : p), '');

function schemaError(value: unknown): string | undefined {
  const errors = [...compiled.Errors(value)];
  // An unknown key is reported twice (a 'boolean' false schema, then 'additionalProperties'): use the latter.
  const err = errors.find((e) => e.keyword !== 'boolean') ?? errors[0];
  if (!err) return undefined;
  const at = keyPath(err.instancePath);
  const params = err.params as { additionalProperties?: string[]; requiredProperties?: string[] };
  if (err.keyword === 'additionalProperties')
    return `${at ? `${at}: ` : ''}unknown key '${params.additionalProperties?.[0]}'`;
  if (err.keyword === 'required')
    return `${at ? `${at}: ` : ''}missing key '${params.requiredProperties?.[0]}'`;
  if (err.keyword === 'pattern' && /tokens\[\d+\]$/.test(at))
    return `${at}: expected 'sha256:' + 64 hex chars; make one with \`mcp-docker hash-token\``;
  return `${at || 'file'}: ${err.message}`;
}

/** A profile's `engines` list: configured engine names only; an unknown name is an error naming it. */
/** A profile's tool list; a name that matches no tool would quietly allow or deny nothing. */
function toolList(names: readonly string[] | undefined, known: readonly string[] | undefined, at: string) {
  const unknown = known && names?.find((n) => !known.includes(n));
  if (unknown !== undefined)
    throw new CredentialsError(
      `${at}: names no tool '${unknown}'${nearest(unknown, known ?? [])}; correct it or remove it`,
    );
  return [...(names ?? [])];
}

function engineList(names: readonly string[], known: readonly string[] | undefined, at: string): string[] {
  const unknown = known ? names.filter((n) => !known.includes(n)) : [];
  if (unknown.length > 0)
    throw new CredentialsError(
      `${at}: unknown engine${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `'${n}'`).join(', ')}; configured: ${known?.join(', ')}`,
    );
  return [...new Set(names)];
}

/** The first empty or blank key of `section` as an error naming the section, else undefined. */
function blankKey(record: Record<string, unknown> | undefined, section: string, what: string) {
  const blank = Object.keys(record ?? {}).find((key) => key.trim() === '');
  if (blank === undefined) return undefined;
  return `${section}: a ${what} may not be ${blank === '' ? 'empty' : 'blank'}; give it a name (it shows in the audit log and in errors)`;
}

/**
 * Validates and resolves a parsed file; throws CredentialsError naming the key and the fix. `engines`
 * are the configured engine names a profile's `engines` may list, `tools` the tool names its tool lists
 * may (each unchecked when not given).
 */
export function resolveAuthFile(
  value: unknown,
  ceiling: SafetyProfile,
  engines?: readonly string[],
  tools?: readonly string[],
): LoadedAuth {
  const problem = schemaError(value);
  if (problem) throw new CredentialsError(problem);
  const file = value as AuthFile;
  const blank =
    blankKey(file.clients, 'clients', 'client id') ??
    blankKey(file.profiles, 'profiles', 'profile name') ??
    blankKey(file.oauth_scopes, 'oauth_scopes', 'scope');
  if (blank) throw new CredentialsError(blank);
  const profiles = new Map(Object.entries(BUILT_IN_PROFILES));
  for (const [name, spec] of Object.entries(file.profiles ?? {})) {
    const base = BUILT_IN_PROFILES[spec.base ?? 'read-only'];
    if (!base)
      throw new CredentialsError(
        `profiles.${name}.base: unknown profile '${spec.base}'; use read-only, moderate or full`,
      );
    profiles.set(name, {
      readOnly: spec.read_only ?? base.readOnly,
      allowModerate: spec.allow_moderate ?? base.allowModerate,
      allowDestructive: spec.allow_destructive ?? base.allowDestructive,
      allowedTools: toolList(spec.allowed_tools, tools, `profiles.${name}.allowed_tools`),
      deniedTools: toolList(spec.denied_tools, tools, `profiles.${name}.denied_tools`),
      ...(spec.toolsets && { toolsets: toolsetList(spec.toolsets, `profiles.${name}.toolsets`) }),
      ...(spec.engines && { engines: engineList(spec.engines, engines, `profiles.${name}.engines`) }),
      ...(spec.confirm && { confirm: spec.confirm }),
    });
  }
  const known = () => [...profiles.keys()].join(', ');
  const lookup = (name: string, at: string) => {
    const p = profiles.get(name);
    if (!p) throw new CredentialsError(`${at}: unknown profile '${name}'; known: ${known()}`);
    return { ...capProfile(p, ceiling), origin: `profile '${name}'` };
  };
  const clients = new Map<string, { profile: SafetyProfile }>();
  const tokens: TokenEntry[] = [];
  const owner = new Map<string, string>();
  for (const [id, c] of Object.entries(file.clients)) {
    clients.set(id, { profile: lookup(c.profile, `clients.${id}.profile`) });
    for (const [i, t] of (c.tokens ?? []).entries()) {
      const other = owner.get(t);
      if (other !== undefined)
        throw new CredentialsError(
          `clients.${id}.tokens[${i}]: the same hash is also a token of '${other}'; give each client its own token`,
        );
      owner.set(t, id);
      tokens.push({ clientId: id, hash: Buffer.from(t.slice('sha256:'.length), 'hex') });
    }
  }
  const scopes: [string, SafetyProfile][] = Object.entries(file.oauth_scopes ?? {}).map(([scope, name]) => [
    scope,
    lookup(name, `oauth_scopes.${scope}`),
  ]);
  return { clients, tokens, scopes };
}

/** Reads and resolves the file; errors name the file. */
export function loadAuthFile(
  path: string,
  ceiling: SafetyProfile,
  engines?: readonly string[],
  tools?: readonly string[],
): LoadedAuth {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    throw new CredentialsError(`cannot read auth file '${path}' (--auth-file): ${why}`);
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    const kind = /\.ya?ml$/i.test(path) ? 'YAML' : 'JSON';
    throw new CredentialsError(
      `auth file '${path}' is not valid ${kind}: ${(e as Error).message.split('\n')[0]}`,
    );
  }
  try {
    return resolveAuthFile(value, ceiling, engines, tools);
  } catch (e) {
    if (e instanceof CredentialsError) throw new CredentialsError(`auth file '${path}': ${e.message}`);
    throw e;
  }
}

/** Order for "the most permissive scope wins". */
const rank = (p: SafetyProfile) =>
  (p.readOnly ? 0 : p.allowDestructive ? 3 : p.allowModerate ? 2 : 1) * 1000 - p.deniedTools.length;

/** The auth file in force, re-read when it changes. */
export class Credentials {
  private auth: LoadedAuth;
  private watcher?: FSWatcher;
  private timer?: ReturnType<typeof setTimeout>;

  constructor(
    readonly path: string,
    private readonly ceiling: SafetyProfile,
    private readonly log: Log,
    /** The configured engine names: a profile's `engines` may list only these. */
    private readonly engines?: readonly string[],
    /** Every tool's name: a profile's tool lists may name only these. */
    private readonly tools?: readonly string[],
  ) {
    this.auth = loadAuthFile(path, ceiling, engines, tools);
  }

  current(): LoadedAuth {
    return this.auth;
  }

  /** Client id → profile; with scopes (OAuth), the most permissive profile a scope maps to. */
  readonly resolve: ProfileResolver = (clientId, scopes) => {
    if (scopes === undefined) return this.auth.clients.get(clientId)?.profile;
    let best: SafetyProfile | undefined;
    for (const [scope, p] of this.auth.scopes)
      if (scopes.includes(scope) && (!best || rank(p) > rank(best))) best = p;
    return best;
  };

  /** Re-reads now; false (and the last good file kept) when the new one is broken. */
  reload(): boolean {
    try {
      this.auth = loadAuthFile(this.path, this.ceiling, this.engines, this.tools);
      this.log.info(`auth file reloaded: ${this.auth.clients.size} client(s)`);
      return true;
    } catch (e) {
      this.log.error(`${(e as Error).message}; keeping the previous version`);
      return false;
    }
  }

  /** Watches the directory: editors replace files by rename, which a watch on the file itself misses. */
  watch(): this {
    const name = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), (_event, file) => {
        if (file !== null && file !== name) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.reload(), 100);
      });
    } catch (e) {
      this.log.warn(`cannot watch auth file '${this.path}' for changes: ${(e as Error).message}`);
    }
    return this;
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}
