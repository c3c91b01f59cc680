/**
 * One typed config: a single TypeBox schema whose fields carry their default, description, CLI flag
 * and env names. Layers (flags > env > file > defaults) are normalised to the same shape, merged,
 * then validated once. This is the only file that reads `process.env`.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import Type, { type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';

interface FieldMeta {
  description: string;
  flag: string;
  /** Env names, first wins. Seed names (SAFETY_…, DOCKER_…) kept for drop-in compatibility. */
  env: string[];
  /** Shown in --help instead of the default value. */
  defaultText?: string;
}
const meta = (description: string, flag: string, env: string[], extra: Partial<FieldMeta> = {}) => ({
  description,
  flag,
  env,
  ...extra,
});

const LIST_HELP = 'comma-separated or JSON array';

export const ConfigSchema = Type.Object(
  {
    config: Type.Optional(
      Type.String(meta('JSON config file to read settings from', '--config', ['MCP_DOCKER_CONFIG'])),
    ),
    transport: Type.Union([Type.Literal('stdio'), Type.Literal('http'), Type.Literal('sse')], {
      default: 'stdio',
      ...meta('How clients connect: stdio, or http (sse is an alias)', '--transport', [
        'MCP_DOCKER_TRANSPORT',
        'MCP_TRANSPORT',
      ]),
    }),
    host: Type.String({
      default: '127.0.0.1',
      minLength: 1,
      ...meta('HTTP: address to listen on', '--host', ['MCP_DOCKER_HTTP_HOST', 'MCP_HOST']),
    }),
    port: Type.Integer({
      default: 8000,
      minimum: 0,
      maximum: 65_535,
      ...meta('HTTP: port to listen on (0 = any free port)', '--port', ['MCP_DOCKER_HTTP_PORT', 'MCP_PORT']),
    }),
    tlsEnabled: Type.Boolean({
      default: false,
      ...meta('HTTP: serve HTTPS with --tls-cert and --tls-key', '--tls', ['MCP_TLS_ENABLED']),
    }),
    tlsCertFile: Type.Optional(
      Type.String(meta('HTTP: PEM certificate (chain) file', '--tls-cert', ['MCP_TLS_CERT_FILE'])),
    ),
    tlsKeyFile: Type.Optional(
      Type.String(meta('HTTP: PEM private key file', '--tls-key', ['MCP_TLS_KEY_FILE'])),
    ),
    allowedHosts: Type.Array(Type.String(), {
      default: [],
      ...meta(
        `HTTP: Host header values accepted besides loopback names on a loopback bind (${LIST_HELP})`,
        '--allowed-hosts',
        ['MCP_DOCKER_ALLOWED_HOSTS'],
      ),
    }),
    allowedOrigins: Type.Array(Type.String(), {
      default: [],
      ...meta(
        `HTTP: browser origins accepted and answered with CORS, e.g. https://app.example.com (${LIST_HELP})`,
        '--allowed-origins',
        ['MCP_DOCKER_ALLOWED_ORIGINS'],
      ),
    }),
    allowInsecureBind: Type.Boolean({
      default: false,
      ...meta(
        'HTTP: listen off loopback without TLS or authentication (logged as INSECURE)',
        '--allow-insecure-bind',
        ['MCP_DOCKER_ALLOW_INSECURE_BIND'],
      ),
    }),
    maxBodyBytes: Type.Integer({
      default: 4_194_304,
      minimum: 1024,
      ...meta('HTTP: largest request body, in bytes', '--max-body-bytes', ['MCP_DOCKER_MAX_BODY_BYTES']),
    }),
    shutdownGraceSeconds: Type.Integer({
      default: 10,
      minimum: 0,
      maximum: 600,
      ...meta(
        'HTTP: on SIGINT/SIGTERM, seconds in-flight calls get before they are cancelled',
        '--shutdown-grace',
        ['MCP_DOCKER_SHUTDOWN_GRACE'],
      ),
    }),
    // --- HTTP authentication (--transport http). Off when none of these is set. ---
    authFile: Type.Optional(
      Type.String(
        meta(
          'HTTP: clients file (JSON or YAML): ids, token hashes, profiles; see docs/SECURITY.md',
          '--auth-file',
          ['SECURITY_AUTH_FILE'],
        ),
      ),
    ),
    sshAuthorizedKeysFile: Type.Optional(
      Type.String(
        meta(
          'HTTP: authorized_keys file for SSH-signed requests (key comment = client id)',
          '--ssh-authorized-keys',
          ['SECURITY_SSH_AUTHORIZED_KEYS_FILE'],
        ),
      ),
    ),
    sshSignatureMaxAgeSeconds: Type.Integer({
      default: 300,
      minimum: 1,
      maximum: 3600,
      ...meta('HTTP: how old an SSH-signed timestamp may be, in seconds', '--ssh-max-age', [
        'SECURITY_SSH_SIGNATURE_MAX_AGE',
      ]),
    }),
    oauthEnabled: Type.Boolean({
      default: false,
      ...meta('HTTP: accept OAuth 2.1 bearer JWTs from --oauth-issuer', '--oauth', [
        'SECURITY_OAUTH_ENABLED',
      ]),
    }),
    oauthIssuer: Type.Optional(
      Type.String(meta('HTTP: OAuth issuer URL (the JWT iss)', '--oauth-issuer', ['SECURITY_OAUTH_ISSUER'])),
    ),
    oauthAudience: Type.Array(Type.String(), {
      default: [],
      ...meta(`HTTP: accepted JWT audiences (${LIST_HELP}; default: this server's URL)`, '--oauth-audience', [
        'SECURITY_OAUTH_AUDIENCE',
      ]),
    }),
    oauthJwksUrl: Type.Optional(
      Type.String(meta('HTTP: issuer JWKS URL', '--oauth-jwks-url', ['SECURITY_OAUTH_JWKS_URL'])),
    ),
    oauthJwksFile: Type.Optional(
      Type.String(
        meta('HTTP: issuer JWKS file (air-gapped hosts)', '--oauth-jwks-file', ['SECURITY_OAUTH_JWKS_FILE']),
      ),
    ),
    oauthRequiredScopes: Type.Array(Type.String(), {
      default: [],
      ...meta(`HTTP: scopes every JWT must carry (${LIST_HELP})`, '--oauth-required-scopes', [
        'SECURITY_OAUTH_REQUIRED_SCOPES',
      ]),
    }),
    oauthClockSkewSeconds: Type.Integer({
      default: 60,
      minimum: 0,
      maximum: 600,
      ...meta('HTTP: clock skew allowed on JWT times, in seconds', '--oauth-clock-skew', [
        'SECURITY_OAUTH_CLOCK_SKEW_SECONDS',
      ]),
    }),
    // --- HTTP abuse limits, client filtering and audit. ---
    rateLimitEnabled: Type.Boolean({
      default: true,
      ...meta('HTTP: per-client rate and concurrency limits', '--rate-limit', [
        'SECURITY_RATE_LIMIT_ENABLED',
      ]),
    }),
    rateLimitRpm: Type.Integer({
      default: 60,
      minimum: 1,
      ...meta('HTTP: tool calls per minute per client', '--rate-limit-rpm', ['SECURITY_RATE_LIMIT_RPM']),
    }),
    rateLimitConcurrent: Type.Integer({
      default: 3,
      minimum: 1,
      ...meta('HTTP: tool calls running at once per client', '--rate-limit-concurrent', [
        'SECURITY_RATE_LIMIT_CONCURRENT',
      ]),
    }),
    rateLimitStreams: Type.Integer({
      default: 32,
      minimum: 1,
      ...meta('HTTP: event streams (GET /sse, GET /mcp) open at once per client', '--rate-limit-streams', [
        'SECURITY_RATE_LIMIT_STREAMS',
      ]),
    }),
    authFailuresPerMinute: Type.Integer({
      default: 10,
      minimum: 1,
      ...meta('HTTP: failed authentications per minute per IP before 429', '--auth-failures-per-minute', [
        'SECURITY_AUTH_FAILURES_PER_MINUTE',
      ]),
    }),
    allowedClientIps: Type.Array(Type.String(), {
      default: [],
      ...meta(`HTTP: client IPs or CIDRs allowed (${LIST_HELP}; empty = all)`, '--allowed-client-ips', [
        'SECURITY_ALLOWED_CLIENT_IPS',
      ]),
    }),
    trustedProxies: Type.Array(Type.String(), {
      default: [],
      ...meta(
        `HTTP: proxy IPs or CIDRs whose X-Forwarded-For is believed (${LIST_HELP})`,
        '--trusted-proxies',
        ['SECURITY_TRUSTED_PROXIES'],
      ),
    }),
    auditLogFile: Type.Optional(
      Type.String(
        meta('HTTP: JSONL audit log of calls and refusals (created 0600)', '--audit-log', [
          'SECURITY_AUDIT_LOG_FILE',
        ]),
      ),
    ),
    sessionIdleSeconds: Type.Integer({
      default: 900,
      minimum: 10,
      maximum: 86_400,
      ...meta(
        'HTTP: close sessions (initialize-era /mcp, legacy /sse) with no call for this long, in seconds',
        '--session-idle',
        ['MCP_DOCKER_SESSION_IDLE'],
      ),
    }),
    dockerHost: Type.Optional(
      Type.String(
        meta('Engine endpoint: unix://, tcp://, npipe:// (default: discovered)', '--docker-host', [
          'DOCKER_HOST',
          'DOCKER_BASE_URL',
        ]),
      ),
    ),
    dockerContext: Type.Optional(
      Type.String(
        meta('Docker CLI context to use instead of the current one', '--context', ['DOCKER_CONTEXT']),
      ),
    ),
    dockerConfigDir: Type.Optional(
      Type.String(
        meta('Docker CLI config directory', '--docker-config', ['DOCKER_CONFIG'], {
          defaultText: '~/.docker',
        }),
      ),
    ),
    dockerTlsVerify: Type.Boolean({
      default: false,
      ...meta('Verify the engine TLS certificate (tcp://)', '--tls-verify', ['DOCKER_TLS_VERIFY']),
    }),
    dockerCertPath: Type.Optional(
      Type.String(
        meta('Directory with ca.pem, cert.pem, key.pem for tcp:// TLS', '--cert-path', ['DOCKER_CERT_PATH']),
      ),
    ),
    timeoutSeconds: Type.Integer({
      default: 60,
      minimum: 1,
      maximum: 86_400,
      ...meta('Default per-call timeout in seconds', '--timeout', ['MCP_DOCKER_TIMEOUT', 'DOCKER_TIMEOUT']),
    }),
    allowModerate: Type.Boolean({
      default: true,
      ...meta('Allow state-changing tools (create, start, exec…)', '--allow-moderate', [
        'SAFETY_ALLOW_MODERATE_OPERATIONS',
      ]),
    }),
    allowDestructive: Type.Boolean({
      default: false,
      ...meta('Allow destructive tools (remove, prune)', '--allow-destructive', [
        'SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS',
      ]),
    }),
    readOnly: Type.Boolean({
      default: false,
      ...meta('Only read-only tools, whatever the other settings say', '--read-only', [
        'MCP_DOCKER_READ_ONLY',
      ]),
    }),
    allowPrivileged: Type.Boolean({
      default: false,
      ...meta(
        'Allow privileged containers/exec, host namespaces, dangerous capabilities and devices',
        '--allow-privileged',
        ['SAFETY_ALLOW_PRIVILEGED_CONTAINERS'],
      ),
    }),
    allowedTools: Type.Array(Type.String(), {
      default: [],
      ...meta(`Only these tools (${LIST_HELP}; empty = all)`, '--allowed-tools', ['SAFETY_ALLOWED_TOOLS']),
    }),
    deniedTools: Type.Array(Type.String(), {
      default: [],
      ...meta(`Never these tools (${LIST_HELP}; wins over allowed)`, '--denied-tools', [
        'SAFETY_DENIED_TOOLS',
      ]),
    }),
    allowedPrompts: Type.Array(Type.String(), {
      default: [],
      ...meta(`Only these prompts (${LIST_HELP}; empty = all)`, '--allowed-prompts', [
        'SAFETY_ALLOWED_PROMPTS',
      ]),
    }),
    allowedResources: Type.Array(Type.String(), {
      default: [],
      ...meta(
        `Only these resources, by name or URI template (${LIST_HELP}; empty = all)`,
        '--allowed-resources',
        ['SAFETY_ALLOWED_RESOURCES'],
      ),
    }),
    logFilter: Type.Union([Type.Literal('none'), Type.Literal('flag'), Type.Literal('drop')], {
      default: 'flag',
      ...meta(
        'Container text: flag or drop lines that look like injected instructions (ANSI codes are always stripped)',
        '--log-filter',
        ['SAFETY_LOG_FILTER'],
      ),
    }),
    volumeMountAllowlist: Type.Array(Type.String(), {
      default: [],
      ...meta(`Host paths bind mounts may use (${LIST_HELP}; empty = any not blocked)`, '--mount-allowlist', [
        'SAFETY_VOLUME_MOUNT_ALLOWLIST',
      ]),
    }),
    volumeMountBlocklist: Type.Array(Type.String(), {
      default: [],
      ...meta(`Extra host paths bind mounts may not use (${LIST_HELP})`, '--mount-blocklist', [
        'SAFETY_VOLUME_MOUNT_BLOCKLIST',
      ]),
    }),
    maxResponseBytes: Type.Integer({
      default: 262_144,
      minimum: 1024,
      ...meta('Cap on one result, in bytes', '--max-response-bytes', ['SAFETY_MAX_RESPONSE_BYTES']),
    }),
    maxExecOutputBytes: Type.Integer({
      default: 1_048_576,
      minimum: 1024,
      ...meta('Cap on exec output read from the engine, in bytes', '--max-exec-output-bytes', [
        'SAFETY_MAX_EXEC_OUTPUT_BYTES',
      ]),
    }),
    maxLogLines: Type.Integer({
      default: 10_000,
      minimum: 1,
      ...meta('Most log lines one call may ask for', '--max-log-lines', ['SAFETY_MAX_LOG_LINES']),
    }),
    maxListResults: Type.Integer({
      default: 1000,
      minimum: 1,
      ...meta('Most rows a list tool returns', '--max-list-results', ['SAFETY_MAX_LIST_RESULTS']),
    }),
    logLevel: Type.Union(
      [
        Type.Literal('silly'),
        Type.Literal('trace'),
        Type.Literal('debug'),
        Type.Literal('info'),
        Type.Literal('warn'),
        Type.Literal('error'),
        Type.Literal('fatal'),
      ],
      { default: 'info', ...meta('Log level (logs go to stderr)', '--log-level', ['MCP_LOG_LEVEL']) },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ConfigKey = keyof Config & string;
export type Layer = 'flag' | 'env' | 'file' | 'default';

/** Facts about the host the server runs on (not settings): used by engine discovery and path policy. */
export interface HostEnv {
  home: string;
  platform: NodeJS.Platform;
  xdgRuntimeDir?: string;
  uid?: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Props = typeof ConfigSchema.properties;
const fields = Object.entries(ConfigSchema.properties) as unknown as [ConfigKey, TSchema & FieldMeta][];
const byFlag = new Map(fields.map(([key, s]) => [s.flag, key]));
// Validated once per start: the interpreter is cheaper than generating and compiling a checker (~6 ms of cold start).
const compiled = {
  Check: (v: unknown) => Value.Check(ConfigSchema, v),
  Errors: (v: unknown) => Value.Errors(ConfigSchema, v),
};

const kindOf = (s: TSchema): 'boolean' | 'integer' | 'list' | 'string' => {
  const t = (s as { type?: string }).type;
  if (t === 'boolean') return 'boolean';
  if (t === 'integer') return 'integer';
  if (t === 'array') return 'list';
  return 'string';
};

/** Turns a raw string from a flag or env var into the field's type, or says why it cannot. */
export function coerce(key: ConfigKey, raw: string): unknown {
  const schema = ConfigSchema.properties[key] as TSchema;
  switch (kindOf(schema)) {
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      throw new Error(`expected true or false, got '${raw}'`);
    }
    case 'integer': {
      if (!/^\s*-?\d+\s*$/.test(raw)) throw new Error(`expected a whole number, got '${raw}'`);
      return Number.parseInt(raw, 10);
    }
    case 'list': {
      const v = raw.trim();
      if (v === '') return [];
      if (v.startsWith('[')) {
        const parsed: unknown = JSON.parse(v);
        if (!Array.isArray(parsed)) throw new Error('expected a JSON array');
        return parsed.map(String);
      }
      return v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    }
    default:
      if (key === 'logLevel') return normaliseLogLevel(raw);
      if (key === 'logFilter') return normaliseLogFilter(raw);
      return raw;
  }
}

// Seed configs use Python level names (WARNING, CRITICAL).
const normaliseLogLevel = (raw: string) =>
  ({ warning: 'warn', critical: 'fatal' })[raw.toLowerCase()] ?? raw.toLowerCase();

// A seed-style boolean reads as on (flag) / off (none).
const normaliseLogFilter = (raw: string) => {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return 'flag';
  if (['false', '0', 'no', 'off'].includes(v)) return 'none';
  return v;
};

type LayerValues = Record<string, { value: unknown; layer: Layer; source: string }>;

export interface ParsedArgs {
  values: LayerValues;
  positionals: string[];
  help: boolean;
  version: boolean;
}

/** Parses argv: `--flag value`, `--flag=value`, `--flag` / `--no-flag` for booleans. Unknown flags throw. */
export function parseArgs(argv: string[]): ParsedArgs {
  const out: ParsedArgs = { values: {}, positionals: [], help: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') out.help = true;
    else if (arg === '--version' || arg === '-v') out.version = true;
    else if (arg.startsWith('-')) {
      const eq = arg.indexOf('=');
      let name = eq > 0 ? arg.slice(0, eq) : arg;
      let inline: string | undefined = eq > 0 ? arg.slice(eq + 1) : undefined;
      let key = byFlag.get(name);
      if (!key && name.startsWith('--no-')) {
        const positive = byFlag.get(`--${name.slice(5)}`);
        if (positive && kindOf(ConfigSchema.properties[positive]) === 'boolean' && inline === undefined) {
          key = positive;
          name = `--${name.slice(5)}`;
          inline = 'false';
        }
      }
      if (!key)
        throw new ConfigError(`unknown option '${name}'. Run 'mcp-docker --help' to see the options.`);
      let raw = inline;
      if (raw === undefined) {
        const next = argv[i + 1];
        if (
          kindOf(ConfigSchema.properties[key]) === 'boolean' &&
          (next === undefined || !/^(true|false|1|0)$/i.test(next))
        )
          raw = 'true';
        else if (next === undefined || next.startsWith('--'))
          throw new ConfigError(`option '${name}' needs a value, e.g. ${name}=VALUE`);
        else raw = argv[++i] as string;
      }
      out.values[key] = { value: parseLayerValue(key, raw, `option '${name}'`), layer: 'flag', source: name };
    } else out.positionals.push(arg);
  }
  return out;
}

/**
 * For `mcp-docker <command> …`: server options (and their values) go to the config; everything else
 * (the command's own flags such as `--json` or `--stdin`, and its positionals) is the command's.
 */
export function splitCommandArgv(argv: string[]): { config: string[]; command: string[] } {
  const config: string[] = [];
  const command: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    const positive = name.startsWith('--no-') ? `--${name.slice(5)}` : name;
    const key = byFlag.get(name) ?? byFlag.get(positive);
    if (['-h', '--help', '-v', '--version'].includes(arg)) config.push(arg);
    else if (!arg.startsWith('-') || !key) command.push(arg);
    else {
      config.push(arg);
      const next = argv[i + 1];
      const boolean = kindOf(ConfigSchema.properties[key]) === 'boolean';
      const takesNext = !arg.includes('=') && next !== undefined && !next.startsWith('--');
      if (takesNext && (!boolean || /^(true|false|1|0)$/i.test(next))) config.push(argv[++i] as string);
    }
  }
  return { config, command };
}

function parseLayerValue(key: ConfigKey, raw: string, where: string): unknown {
  try {
    return coerce(key, raw);
  } catch (e) {
    throw new ConfigError(`${where}: ${(e as Error).message}`);
  }
}

export function readEnvLayer(env: Record<string, string | undefined>): LayerValues {
  const out: LayerValues = {};
  for (const [key, schema] of fields) {
    for (const name of schema.env) {
      const raw = env[name];
      if (raw === undefined || (raw === '' && kindOf(schema) !== 'list')) continue;
      out[key] = { value: parseLayerValue(key, raw, `env ${name}`), layer: 'env', source: name };
      break;
    }
  }
  return out;
}

export function readFileLayer(path: string): LayerValues {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message;
    throw new ConfigError(`config file '${path}': ${why}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new ConfigError(`config file '${path}': expected a JSON object of settings`);
  const out: LayerValues = {};
  for (const [key, value] of Object.entries(doc)) {
    if (!(key in ConfigSchema.properties) || key === 'config')
      throw new ConfigError(
        `config file '${path}': unknown setting '${key}'. Known: ${fields.map(([k]) => k).join(', ')}`,
      );
    // Lists and numbers may be written as strings in a file too.
    const v =
      typeof value === 'string'
        ? parseLayerValue(key as ConfigKey, value, `config file key '${key}'`)
        : value;
    out[key] = { value: v, layer: 'file', source: `${path}: ${key}` };
  }
  return out;
}

export interface LoadedConfig {
  config: Config;
  /** Where each set value came from, for `doctor` and error messages. */
  sources: Record<string, string>;
  host: HostEnv;
}

/** Merges the layers and validates once; errors name the key and the layer it came from. */
export function resolveConfig(layers: {
  flags: LayerValues;
  env: LayerValues;
  file?: LayerValues;
}): Config & {
  sources: Record<string, string>;
} {
  const merged: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  for (const [key, schema] of fields) {
    const hit = layers.flags[key] ?? layers.env[key] ?? layers.file?.[key];
    if (hit) {
      merged[key] = hit.value;
      sources[key] = `${hit.layer} ${hit.source}`;
    } else if ('default' in schema) merged[key] = structuredClone(schema.default);
  }
  if (!compiled.Check(merged)) {
    const err = [...compiled.Errors(merged)][0];
    const key = (err?.instancePath.split('/')[1] ?? '') as ConfigKey;
    const schema = ConfigSchema.properties[key as keyof Props] as unknown as
      | (TSchema & FieldMeta)
      | undefined;
    const where = sources[key] ?? 'default';
    const allowed = (schema as { anyOf?: { const: string }[] } | undefined)?.anyOf?.map((s) => s.const);
    const why = allowed ? `must be one of ${allowed.join(', ')}` : (err?.message ?? 'invalid');
    throw new ConfigError(`setting '${key}' (from ${where}): ${why}, got ${JSON.stringify(merged[key])}`);
  }
  return Object.assign(merged as Config, { sources });
}

/** The whole load: argv + process env + optional file. */
export function loadConfig(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): LoadedConfig & {
  args: ParsedArgs;
} {
  const args = parseArgs(argv);
  const envLayer = readEnvLayer(env);
  const file = (args.values.config?.value ?? envLayer.config?.value) as string | undefined;
  const { sources, ...config } = resolveConfig({
    flags: args.values,
    env: envLayer,
    file: file ? readFileLayer(file) : undefined,
  });
  return { config: config as Config, sources, host: readHostEnv(env), args };
}

export function readHostEnv(env: Record<string, string | undefined> = process.env): HostEnv {
  return {
    home: env.HOME || env.USERPROFILE || homedir(),
    platform: process.platform,
    xdgRuntimeDir: env.XDG_RUNTIME_DIR || undefined,
    uid: typeof process.getuid === 'function' ? process.getuid() : undefined,
  };
}

export const dockerConfigDir = (config: Config, host: HostEnv) =>
  config.dockerConfigDir ?? join(host.home, '.docker');

/** How to find and reach the engine, from the settings and the host (the server and `doctor` alike). */
export const engineSettings = (config: Config, host: HostEnv) => ({
  dockerHost: config.dockerHost,
  dockerContext: config.dockerContext,
  dockerConfigDir: dockerConfigDir(config, host),
  tlsVerify: config.dockerTlsVerify,
  certPath: config.dockerCertPath,
  home: host.home,
  platform: host.platform,
  xdgRuntimeDir: host.xdgRuntimeDir,
  uid: host.uid,
});

/** The server-wide safety profile the settings describe (the ceiling for every HTTP credential). */
export const serverProfile = (config: Config) => ({
  allowModerate: config.allowModerate,
  allowDestructive: config.allowDestructive,
  readOnly: config.readOnly,
  allowedTools: config.allowedTools,
  deniedTools: config.deniedTools,
});

/** `--help` text, generated from the schema so it can never drift from the options. */
export function helpText(version: string): string {
  const rows = fields.map(([, s]) => {
    const kind = kindOf(s);
    const arg =
      kind === 'boolean' ? '' : kind === 'list' ? ' <a,b>' : kind === 'integer' ? ' <n>' : ' <value>';
    const def =
      s.defaultText ??
      ('default' in s && !(Array.isArray(s.default) && s.default.length === 0)
        ? String(s.default)
        : undefined);
    return [
      `  ${s.flag}${arg}`,
      `${s.description}${def !== undefined ? ` [default: ${def}]` : ''}`,
      s.env.join(', '),
    ];
  });
  const w = Math.max(...rows.map((r) => (r[0] as string).length)) + 2;
  const lines = rows.map(([f, d, e]) => `${(f as string).padEnd(w)}${d}\n${' '.repeat(w)}env: ${e}`);
  return [
    `mcp-docker ${version} — an MCP server for Docker engines`,
    '',
    'Usage: mcp-docker [options]        serve MCP over stdio (or --transport http)',
    '       mcp-docker doctor [--json]        check the engine connection, safety mode and settings',
    '       mcp-docker config <client>        print the MCP client snippet (claude-desktop, claude-code, cursor, vscode…)',
    '       mcp-docker hash-token [--stdin]   make a bearer token and the hash for the auth file',
    '       mcp-docker --version | --help',
    '',
    'Options (flags win over env, env over the config file):',
    ...lines,
    `${'  -v, --version'.padEnd(w)}Print the version`,
    `${'  -h, --help'.padEnd(w)}Print this help`,
    '',
  ].join('\n');
}
