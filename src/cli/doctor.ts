/**
 * `mcp-docker doctor [--json]`: what this server would do if started with the same flags, env and
 * config file — which engines it finds and how, whether they answer, the safety mode and where each
 * setting came from. Exit 0 when every engine answers, 1 with advice when one does not, 2 when the
 * engine settings cannot be used at all.
 */

import { isLoopbackUrl } from '../config/engines.ts';
import { fieldsBySection } from '../config/help.ts';
import type { LoadedConfig } from '../config/layers.ts';
import { SECTIONS } from '../config/meta.ts';
import { type Runtime, runtimeOf } from '../config/runtime.ts';
import type { Config } from '../config/schema.ts';
import type { Attempt } from '../core/engine.ts';
import type { Engine } from '../docker/engine.ts';
import { configuredEngines, type EngineSettingsError } from '../docker/engines.ts';
import type { FilesystemVerdict } from '../docker/facts.ts';
import { gate } from '../pipeline/gate.ts';
import { VERSION } from '../version.ts';
import { unknownNames } from './names.ts';

const DOCTOR_TIMEOUT_MS = 10_000;

/** One configured engine, as doctor found it. */
export interface EngineReport extends EngineCheck {
  name: string;
  default: boolean;
  /** Where its settings came from: flag --engine, env MCP_DOCKER_ENGINES, the config file, a context. */
  settingsFrom: string;
  description?: string;
  ceiling: { readOnly: boolean; allowDestructive: boolean };
  /** Whether host paths mean the same to the engine as to this server, and why. */
  filesystem: FilesystemVerdict;
  warnings: string[];
}

interface EngineCheck {
  reachable: boolean;
  url?: string;
  source?: string;
  apiVersion?: string;
  engineVersion?: string;
  platform?: string;
  attempts: Attempt[];
  problem?: string;
  advice?: string;
}

export interface DoctorReport {
  version: string;
  healthy: boolean;
  /** Whether engines were configured (--engine, MCP_DOCKER_ENGINES, the file's engines) rather than discovered. */
  configured: boolean;
  /** Settings that are ignored or unsafe (e.g. DOCKER_HOST beside --engine, plain tcp://). */
  warnings: string[];
  /** Every engine (one, 'default', when none is configured), in order. */
  engines: EngineReport[];
  /** The default engine (as before several engines could be configured). */
  engine: EngineCheck & {
    /** How the endpoint was chosen: the setting's source, a Docker context, or the well-known sockets. */
    chosenBy: string;
    filesystem: FilesystemVerdict;
  };
  safety: {
    readOnly: boolean;
    tiers: { safe: boolean; moderate: boolean; destructive: boolean };
    allowPrivileged: boolean;
    toolsets: string[];
    allowedTools: string[];
    deniedTools: string[];
    toolsListed: number;
    toolsTotal: number;
    /**
     * Names in the tool, prompt and resource lists that match nothing (each with the closest name):
     * the server refuses to start with them.
     */
    unknownTools: string[];
    mountAllowlist: string[];
    mountBlocklist: string[];
    logFilter: string;
  };
  transport: {
    mode: string;
    listen?: string;
    tls?: boolean;
    auth?: string[];
    allowedHosts?: string[];
    allowedOrigins?: string[];
    rateLimit?: string;
  };
  /** Where each set value came from, by key; `sections` groups the same keys as --help does. */
  config: { file?: string; sources: Record<string, string>; sections: { section: string; keys: string[] }[] };
}

export async function run(argv: string[], loaded: LoadedConfig): Promise<number> {
  const unknown = argv.filter((a) => a !== '--json');
  if (unknown.length > 0) {
    process.stderr.write(
      `mcp-docker doctor: unexpected '${unknown[0]}'. Usage: mcp-docker doctor [--json]\n`,
    );
    return 2;
  }
  let report: DoctorReport;
  try {
    report = await doctor(loaded);
  } catch (e) {
    if ((e as EngineSettingsError).name !== 'EngineSettingsError') throw e;
    process.stderr.write(`mcp-docker: ${(e as Error).message}\n`);
    return 2;
  }
  process.stdout.write(
    maskUrlPasswords(argv.includes('--json') ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report)),
  );
  return report.healthy ? 0 : 1;
}

/**
 * `scheme://user:password@` → `scheme://user:***@`, as tool errors show URLs: a report is pasted
 * into issues and chats (DOCKER_HOST, a Docker context's endpoint, a URL in an attempt's outcome).
 */
export const maskUrlPasswords = (text: string): string =>
  text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/@:"]*:)[^\s/@"]+@/gi, '$1***@');

export async function doctor({ config, sources, host }: LoadedConfig): Promise<DoctorReport> {
  const rt = runtimeOf(config, host, sources);
  const registry = configuredEngines(rt.engines, rt.engineSettings, {
    localSharesFilesystem: rt.sharesFilesystem,
  });
  const configured = rt.engines.length > 0;
  const chosenBy = configured
    ? (sources.engines ?? 'engines')
    : config.dockerHost
      ? (sources.dockerHost ?? 'DOCKER_HOST')
      : config.dockerContext
        ? (sources.dockerContext ?? 'Docker context')
        : 'discovery (Docker CLI context, then the well-known sockets)';
  const signal = AbortSignal.timeout(DOCTOR_TIMEOUT_MS);
  // Every engine at once: one slow engine does not make the others wait.
  const engines = await Promise.all(
    registry.names().map(async (name): Promise<EngineReport> => {
      const engine = registry.resolve(name);
      const spec = rt.engines.find((e) => e.name === name);
      const check = await checkEngine(engine, signal, (attempts) =>
        adviceFor(config, attempts, chosenBy, configured),
      );
      const filesystem = filesystemOf(engine, spec, sources);
      engine.close();
      return {
        name,
        default: name === registry.defaultName,
        settingsFrom: spec
          ? `${spec.source}${spec.url.startsWith('context:') ? ` (Docker context ${spec.url.slice(8)})` : ''}`
          : chosenBy,
        ...(engine.description !== undefined && { description: engine.description }),
        ceiling: { ...engine.ceiling },
        filesystem,
        warnings: spec ? engineWarnings(spec) : [],
        ...check,
      };
    }),
  );
  const main = engines.find((e) => e.default) ?? (engines[0] as EngineReport);
  const {
    name: _n,
    default: _d,
    settingsFrom: _s,
    description: _desc,
    ceiling: _c,
    filesystem,
    warnings: _w,
    ...engineReport
  } = main;
  return {
    version: VERSION,
    healthy: engines.every((e) => e.reachable),
    configured,
    warnings: settingsWarnings(config, sources, configured),
    engines,
    engine: { ...engineReport, chosenBy, filesystem },
    safety: await safetyOf(config, rt, sources),
    transport: transportOf(config),
    config: {
      file: config.config,
      sources,
      sections: fieldsBySection()
        .map(([section, fields]) => ({
          section: SECTIONS[section],
          keys: fields.map(([key]) => key).filter((key) => key in sources),
        }))
        .filter((s) => s.keys.length > 0),
    },
  };
}

/** The engine's filesystem verdict, a setting's naming where it was set. */
function filesystemOf(
  engine: Engine,
  spec: Runtime['engines'][number] | undefined,
  sources: Record<string, string>,
): FilesystemVerdict {
  const v = engine.filesystem();
  const from = v.why.startsWith("set by this engine's")
    ? spec?.source
    : v.why.startsWith('set by the server-wide')
      ? sources.sharesFilesystem
      : undefined;
  return from ? { ...v, why: `${v.why}, from ${from}` } : v;
}

/** The doctor line saying where host paths are resolved. */
const filesystemLine = (f: FilesystemVerdict) =>
  f.shares
    ? `  files   host paths are this server's, resolved here: ${f.why}`
    : `  files   host paths are the engine host's, checked as written against --mount-allowlist only: ${f.why}`;

async function checkEngine(
  engine: Engine,
  signal: AbortSignal,
  advice: (attempts: Attempt[]) => string,
): Promise<EngineCheck> {
  try {
    const { info } = await engine.connection(signal);
    return {
      reachable: true,
      url: info.url,
      source: info.source,
      apiVersion: info.apiVersion,
      engineVersion: info.serverVersion,
      platform: `${info.os}/${info.arch}`,
      attempts: engine.attempts(),
    };
  } catch (e) {
    const attempts = engine.attempts();
    return { reachable: false, attempts, problem: (e as Error).message, advice: advice(attempts) };
  }
}

/** Settings given but not used, and addresses without encryption. */
function settingsWarnings(config: Config, sources: Record<string, string>, configured: boolean): string[] {
  const out: string[] = [];
  if (configured) {
    const names = {
      dockerHost: 'DOCKER_HOST/--docker-host',
      dockerContext: 'DOCKER_CONTEXT/--context',
      dockerCertPath: 'DOCKER_CERT_PATH/--cert-path',
      dockerTlsVerify: 'DOCKER_TLS_VERIFY/--tls-verify',
    } as const;
    for (const [key, name] of Object.entries(names)) {
      if (sources[key] === undefined) continue;
      const fix =
        key === 'dockerCertPath' || key === 'dockerTlsVerify'
          ? "Set each engine's 'tlsDir' and 'tlsVerify' instead."
          : 'Add it as an engine (--engine NAME=URL) if you want it served.';
      out.push(`${name} (from ${sources[key]}) is ignored: the engines come from ${sources.engines}. ${fix}`);
    }
  } else if (
    config.dockerHost?.startsWith('tcp://') &&
    !config.dockerTlsVerify &&
    !config.dockerCertPath &&
    !isLoopbackUrl(config.dockerHost)
  ) {
    out.push(
      `${config.dockerHost} (from ${sources.dockerHost}) is plain TCP off this host: requests and registry credentials travel unencrypted and the engine is not authenticated. Use TLS (DOCKER_CERT_PATH, DOCKER_TLS_VERIFY=1) or ssh://.`,
    );
  }
  return out;
}

function engineWarnings(spec: Runtime['engines'][number]): string[] {
  const out: string[] = [];
  if (spec.url.startsWith('tcp://') && !spec.tlsDir)
    out.push(
      `plain TCP (allowed on loopback only): requests travel unencrypted and the engine is not authenticated`,
    );
  if (spec.tlsDir && spec.tlsVerify === false)
    out.push(`tlsVerify is false: the connection is encrypted but the engine's certificate is not checked`);
  return out;
}

export function adviceFor(
  config: Config,
  attempts: Attempt[],
  chosenBy: string,
  configured: boolean,
): string {
  const where =
    attempts.length === 1 ? `no engine at ${attempts[0]?.url}` : 'no engine at any endpoint tried';
  if (attempts.some((a) => a.outcome.startsWith('host key of')))
    return `${where}: the SSH host key was refused — see 'tried' for its fingerprint and how to trust it.`;
  const denied = attempts.find((a) => a.outcome.startsWith('permission denied'));
  if (denied) {
    // In a container (the image runs as user 65532) the socket's group is given with --group-add.
    const socket = denied.url.startsWith('unix://') ? denied.url.slice('unix://'.length) : 'SOCKET';
    return `${where}: permission denied — add your user to the docker group (then log in again), or run as a user that may use the socket; in a container, give it the socket's group: docker run --group-add "$(stat -c %g ${socket})" …`;
  }
  if (configured)
    return `${where}: ${attempts[0]?.outcome ?? 'nothing tried'}. The engine's settings come from ${chosenBy}.`;
  if (config.dockerHost)
    return `${where} — is Docker running there? The endpoint comes from ${chosenBy}: fix it, or unset it to let mcp-docker find the engine.`;
  return `${where} — is Docker running? Start it (Docker Desktop, colima start, systemctl start docker), or set DOCKER_HOST or --docker-host to your engine's socket.`;
}

async function safetyOf(
  config: Config,
  rt: Runtime,
  sources: Record<string, string>,
): Promise<DoctorReport['safety']> {
  const { profile } = rt.pipeline;
  const { catalogue } = await import('../tools/index.ts');
  return {
    readOnly: config.readOnly,
    tiers: {
      safe: true,
      moderate: config.allowModerate && !config.readOnly,
      destructive: config.allowDestructive && !config.readOnly,
    },
    allowPrivileged: config.allowPrivileged,
    toolsets: [...profile.toolsets],
    allowedTools: config.allowedTools,
    deniedTools: config.deniedTools,
    toolsListed: catalogue.filter((t) => gate(t, profile).allowed).length,
    toolsTotal: catalogue.length,
    unknownTools: await unknownNames(config, sources),
    mountAllowlist: config.volumeMountAllowlist,
    mountBlocklist: config.volumeMountBlocklist,
    logFilter: config.logFilter,
  };
}

function transportOf(config: Config): DoctorReport['transport'] {
  if (config.transport === 'stdio') return { mode: 'stdio' };
  const auth = [
    ...(config.authFile ? [`tokens (${config.authFile})`] : []),
    ...(config.sshAuthorizedKeysFile ? [`SSH signatures (${config.sshAuthorizedKeysFile})`] : []),
    ...(config.oauthEnabled ? [`OAuth (${config.oauthIssuer ?? 'no issuer set'})`] : []),
  ];
  return {
    mode: 'http',
    listen: `${config.tlsEnabled ? 'https' : 'http'}://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`,
    tls: config.tlsEnabled,
    auth: auth.length > 0 ? auth : ['none'],
    allowedHosts: config.allowedHosts,
    allowedOrigins: config.allowedOrigins,
    rateLimit: config.rateLimitEnabled
      ? `${config.rateLimitRpm} calls/min, ${config.rateLimitConcurrent} concurrent`
      : 'off',
  };
}

function engineLines(e: EngineCheck, chosenBy: string, label = 'chosen  by'): string[] {
  const lines: string[] = [];
  if (e.reachable) {
    lines.push(
      `  ok      ${e.url} (${e.source})`,
      `  ${label} ${chosenBy}`,
      `  engine  Docker ${e.engineVersion} on ${e.platform}, API ${e.apiVersion}`,
    );
  } else {
    lines.push(`  FAIL    ${e.advice}`, `  ${label} ${chosenBy}`);
    for (const a of e.attempts) lines.push(`  tried   ${a.url} (${a.source}): ${a.outcome}`);
    if (e.attempts.length === 0) lines.push(`  why     ${e.problem}`);
  }
  return lines;
}

const on = (b: boolean) => (b ? 'on' : 'off');
const list = (xs: string[], none = 'none') => (xs.length > 0 ? xs.join(', ') : none);

/** The human-readable report: one fact per line, problems first-class. */
export function formatReport(r: DoctorReport): string {
  const e = r.engine;
  const s = r.safety;
  const lines = [`mcp-docker ${r.version} doctor`, ''];
  if (!r.configured) {
    lines.push('Engine', ...engineLines(e, e.chosenBy), filesystemLine(e.filesystem));
  } else {
    lines.push(`Engines (${r.engines.length}, from ${e.chosenBy})`);
    for (const x of r.engines) {
      const marks = [
        x.default ? 'default' : '',
        x.ceiling.readOnly ? 'read-only' : '',
        x.ceiling.allowDestructive ? '' : 'no destructive',
      ].filter(Boolean);
      lines.push(
        `  ${x.name}${marks.length > 0 ? ` (${marks.join(', ')})` : ''}${x.description ? ` — ${x.description}` : ''}`,
      );
      lines.push(
        ...[...engineLines(x, x.settingsFrom, 'from   '), filesystemLine(x.filesystem)].map((l) => `  ${l}`),
      );
      for (const w of x.warnings) lines.push(`    WARN    ${w}`);
    }
  }
  for (const w of r.warnings) lines.push(`  WARN    ${w}`);
  const tiers = Object.entries(s.tiers)
    .filter(([, allowed]) => allowed)
    .map(([tier]) => tier)
    .join(' + ');
  lines.push(
    '',
    'Safety',
    `  tiers       ${tiers}${s.readOnly ? ' (read-only)' : ''}`,
    `  toolsets    ${list(s.toolsets)}`,
    `  tools       ${s.toolsListed} of ${s.toolsTotal} listed`,
    `  allowed     ${list(s.allowedTools, 'all')}`,
    `  denied      ${list(s.deniedTools)}`,
    ...s.unknownTools.map((w) => `  WARN        ${w} (the server does not start with it)`),
    `  privileged  ${s.allowPrivileged ? 'allowed' : 'refused'}`,
    `  mounts      allow ${list(s.mountAllowlist, '~ and the temp dir (defaults)')}; block ${list(s.mountBlocklist)}`,
    `  log filter  ${s.logFilter}`,
    '',
    'Transport',
  );
  const t = r.transport;
  if (t.mode === 'stdio') lines.push('  stdio');
  else
    lines.push(
      `  listen      ${t.listen}`,
      `  auth        ${list(t.auth ?? [])}`,
      `  hosts       ${list(t.allowedHosts ?? [], 'loopback names')}`,
      `  origins     ${list(t.allowedOrigins ?? [], 'same-origin only')}`,
      `  rate limit  ${t.rateLimit}`,
      `  tls         ${on(t.tls ?? false)}`,
    );
  lines.push('', 'Config (settings not listed are defaults)');
  if (r.config.sections.length === 0) lines.push('  all defaults');
  for (const { section, keys } of r.config.sections) {
    lines.push(`  ${section}`);
    for (const key of keys) lines.push(`    ${key.padEnd(24)} ${r.config.sources[key]}`);
  }
  return `${lines.join('\n')}\n`;
}
