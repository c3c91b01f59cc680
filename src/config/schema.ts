/**
 * One typed config: a single TypeBox schema whose fields carry their section, default, description,
 * CLI flag and env names (meta.ts). Nothing about an option is declared anywhere else. Read at run
 * time through fields.ts, which holds it as data made when the code is built.
 */
import Type, { type Static } from 'typebox';
import { DEFAULT_TOOLSETS } from '../core/toolsets.ts';
import type { EngineConfig } from './engines.ts';
import { LIST_HELP, meta } from './meta.ts';
import { httpFields } from './schema-http.ts';

const { server, engine, safety, limits } = meta;

const serverFields = {
  config: Type.Optional(
    Type.String(server('JSON config file to read settings from', '--config', ['MCP_DOCKER_CONFIG'])),
  ),
  transport: Type.Union([Type.Literal('stdio'), Type.Literal('http'), Type.Literal('sse')], {
    default: 'stdio',
    ...server('How clients connect: stdio, or http (sse is an alias)', '--transport', [
      'MCP_DOCKER_TRANSPORT',
      'MCP_TRANSPORT',
    ]),
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
    { default: 'info', ...server('Log level (logs go to stderr)', '--log-level', ['MCP_LOG_LEVEL']) },
  ),
  outputSchemas: Type.Union([Type.Literal('lean'), Type.Literal('full')], {
    default: 'lean',
    ...server(
      'Listed output schemas: lean (each tool lists {type: object}, one schema clients compile once) or full (every result field, typed and described, for clients that generate typed code)',
      '--output-schemas',
      ['MCP_DOCKER_OUTPUT_SCHEMAS'],
    ),
  }),
  auditLogFile: Type.Optional(
    Type.String(
      server('JSONL audit log of calls and refusals, over stdio and HTTP (created 0600)', '--audit-log', [
        'SECURITY_AUDIT_LOG_FILE',
      ]),
    ),
  ),
};

const engineFields = {
  // Parsed and merged by engines.ts (flags accumulate; flags or env replace the file's set): after
  // loading, the configured engines in order, each with where its settings came from.
  engines: Type.Optional(
    Type.Unsafe<EngineConfig[]>(
      engine(
        'An engine NAME=URL (repeatable): unix://, tcp://, ssh://user@host[:port], npipe://, context:NAME; env: comma-separated or a JSON object; file: a map of names to settings (see "Several engines" in the README)',
        '--engine',
        ['MCP_DOCKER_ENGINES'],
        { arg: 'NAME=URL', defaultText: 'one engine, default, found as DOCKER_HOST/--context say' },
      ),
    ),
  ),
  dockerHost: Type.Optional(
    Type.String(
      engine('Engine endpoint: unix://, tcp://, ssh://, npipe:// (default: discovered)', '--docker-host', [
        'DOCKER_HOST',
        'DOCKER_BASE_URL',
      ]),
    ),
  ),
  dockerContext: Type.Optional(
    Type.String(
      engine('Docker CLI context to use instead of the current one', '--context', ['DOCKER_CONTEXT']),
    ),
  ),
  dockerConfigDir: Type.Optional(
    Type.String(
      engine('Docker CLI config directory', '--docker-config', ['DOCKER_CONFIG'], {
        defaultText: '~/.docker',
      }),
    ),
  ),
  dockerTlsVerify: Type.Boolean({
    default: false,
    ...engine('Verify the engine TLS certificate (tcp://)', '--tls-verify', ['DOCKER_TLS_VERIFY']),
  }),
  dockerCertPath: Type.Optional(
    Type.String(
      engine('Directory with ca.pem, cert.pem, key.pem for tcp:// TLS', '--cert-path', ['DOCKER_CERT_PATH']),
    ),
  ),
  sharesFilesystem: Type.Optional(
    Type.Boolean(
      engine(
        "Whether engines on a local socket see this server's files, so host paths are resolved here (an engine's own sharesFilesystem wins)",
        '--shares-filesystem',
        ['MCP_DOCKER_SHARES_FILESYSTEM'],
        { defaultText: 'found: yes, unless this server runs in a container the engine is not in' },
      ),
    ),
  ),
  timeoutSeconds: Type.Integer({
    default: 60,
    minimum: 1,
    maximum: 86_400,
    ...engine(
      'Per-call timeout in seconds (a tool that waits longer by design, such as exec or events, keeps its own)',
      '--timeout',
      ['MCP_DOCKER_TIMEOUT', 'DOCKER_TIMEOUT'],
    ),
  }),
};

const safetyFields = {
  toolsets: Type.Array(Type.String(), {
    default: ['default'],
    ...safety(
      `Toolsets switched on: names, 'default' or 'all' (${LIST_HELP}), e.g. default,swarm`,
      '--toolsets',
      ['MCP_DOCKER_TOOLSETS'],
      { defaultText: `default (${DEFAULT_TOOLSETS.join(', ')})` },
    ),
  }),
  allowModerate: Type.Boolean({
    default: true,
    ...safety('Allow state-changing tools (create, start, exec…)', '--allow-moderate', [
      'SAFETY_ALLOW_MODERATE_OPERATIONS',
    ]),
  }),
  allowDestructive: Type.Boolean({
    default: false,
    ...safety('Allow destructive tools (remove, prune)', '--allow-destructive', [
      'SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS',
    ]),
  }),
  readOnly: Type.Boolean({
    default: false,
    ...safety('Only read-only tools, whatever the other settings say', '--read-only', [
      'MCP_DOCKER_READ_ONLY',
    ]),
  }),
  confirm: Type.Union([Type.Literal('destructive'), Type.Literal('all'), Type.Literal('none')], {
    default: 'destructive',
    ...safety(
      'Ask the user (MCP elicitation) before these calls run: destructive, all (moderate too) or none',
      '--confirm',
      ['MCP_DOCKER_CONFIRM'],
    ),
  }),
  confirmFallback: Type.Union([Type.Literal('allow'), Type.Literal('refuse')], {
    default: 'allow',
    ...safety(
      'When the client cannot ask its user: allow (audited as unconfirmed) or refuse',
      '--confirm-fallback',
      ['MCP_DOCKER_CONFIRM_FALLBACK'],
    ),
  }),
  confirmTimeoutSeconds: Type.Integer({
    default: 300,
    minimum: 1,
    maximum: 3600,
    ...safety('Seconds the user has to answer a confirmation question', '--confirm-timeout', [
      'MCP_DOCKER_CONFIRM_TIMEOUT',
    ]),
  }),
  allowPrivileged: Type.Boolean({
    default: false,
    ...safety(
      'Lift the container policy: privileged, host namespaces, extra capabilities, devices, security options, volume types',
      '--allow-privileged',
      ['SAFETY_ALLOW_PRIVILEGED_CONTAINERS'],
    ),
  }),
  allowedTools: Type.Array(Type.String(), {
    default: [],
    ...safety(`Only these tools (${LIST_HELP}; empty = all)`, '--allowed-tools', ['SAFETY_ALLOWED_TOOLS']),
  }),
  deniedTools: Type.Array(Type.String(), {
    default: [],
    ...safety(`Never these tools (${LIST_HELP}; wins over allowed)`, '--denied-tools', [
      'SAFETY_DENIED_TOOLS',
    ]),
  }),
  allowedPrompts: Type.Array(Type.String(), {
    default: [],
    ...safety(`Only these prompts (${LIST_HELP}; empty = all)`, '--allowed-prompts', [
      'SAFETY_ALLOWED_PROMPTS',
    ]),
  }),
  allowedResources: Type.Array(Type.String(), {
    default: [],
    ...safety(
      `Only these resources, by name or URI template (${LIST_HELP}; empty = all)`,
      '--allowed-resources',
      ['SAFETY_ALLOWED_RESOURCES'],
    ),
  }),
  logFilter: Type.Union([Type.Literal('none'), Type.Literal('flag'), Type.Literal('drop')], {
    default: 'flag',
    ...safety(
      'Container text: flag or drop lines that look like injected instructions (ANSI codes are always stripped)',
      '--log-filter',
      ['SAFETY_LOG_FILTER'],
    ),
  }),
  volumeMountAllowlist: Type.Array(Type.String(), {
    default: [],
    ...safety(
      `Host paths binds, build contexts and tars may use (${LIST_HELP}; empty = ~ and the temp dir)`,
      '--mount-allowlist',
      ['SAFETY_VOLUME_MOUNT_ALLOWLIST'],
    ),
  }),
  volumeMountBlocklist: Type.Array(Type.String(), {
    default: [],
    ...safety(`Host paths refused on top of the allowlist (${LIST_HELP})`, '--mount-blocklist', [
      'SAFETY_VOLUME_MOUNT_BLOCKLIST',
    ]),
  }),
};

const limitFields = {
  maxResponseBytes: Type.Integer({
    default: 262_144,
    minimum: 1024,
    ...limits('Cap on one result, in bytes', '--max-response-bytes', ['SAFETY_MAX_RESPONSE_BYTES']),
  }),
  maxExecOutputBytes: Type.Integer({
    default: 1_048_576,
    minimum: 1024,
    ...limits('Cap on exec output read from the engine, in bytes', '--max-exec-output-bytes', [
      'SAFETY_MAX_EXEC_OUTPUT_BYTES',
    ]),
  }),
  maxLogLines: Type.Integer({
    default: 10_000,
    minimum: 1,
    ...limits('Most log lines a call reads or greps', '--max-log-lines', ['SAFETY_MAX_LOG_LINES']),
  }),
  maxListResults: Type.Integer({
    default: 1000,
    minimum: 1,
    ...limits('Most rows a list tool returns', '--max-list-results', ['SAFETY_MAX_LIST_RESULTS']),
  }),
};

export const ConfigSchema = Type.Object(
  { ...serverFields, ...engineFields, ...safetyFields, ...limitFields, ...httpFields },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;
export type ConfigKey = keyof Config & string;
