/**
 * `mcp-docker doctor [--json]`: what this server would do if started with the same flags, env and
 * config file — which engine it finds and how, whether it answers, the safety mode and where each
 * setting came from. Exit 0 when the engine answers, 1 with advice when it does not.
 */
import { fieldsBySection } from '../config/help.ts';
import type { LoadedConfig } from '../config/layers.ts';
import { SECTIONS } from '../config/meta.ts';
import { type Runtime, runtimeOf } from '../config/runtime.ts';
import type { Config } from '../config/schema.ts';
import type { Attempt } from '../core/engine.ts';
import { defaultEngines } from '../docker/engines.ts';
import { gate } from '../pipeline/gate.ts';
import { VERSION } from '../version.ts';

const DOCTOR_TIMEOUT_MS = 10_000;

export interface DoctorReport {
  version: string;
  healthy: boolean;
  engine: {
    reachable: boolean;
    /** How the endpoint was chosen: the setting's source, a Docker context, or the well-known sockets. */
    chosenBy: string;
    url?: string;
    source?: string;
    apiVersion?: string;
    engineVersion?: string;
    platform?: string;
    attempts: Attempt[];
    problem?: string;
    advice?: string;
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
  const report = await doctor(loaded);
  process.stdout.write(
    argv.includes('--json') ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report),
  );
  return report.healthy ? 0 : 1;
}

export async function doctor({ config, sources, host }: LoadedConfig): Promise<DoctorReport> {
  const rt = runtimeOf(config, host);
  const engine = defaultEngines(rt.engineSettings).resolve();
  const chosenBy = config.dockerHost
    ? (sources.dockerHost ?? 'DOCKER_HOST')
    : config.dockerContext
      ? (sources.dockerContext ?? 'Docker context')
      : 'discovery (Docker CLI context, then the well-known sockets)';
  let engineReport: DoctorReport['engine'];
  try {
    const { info } = await engine.connection(AbortSignal.timeout(DOCTOR_TIMEOUT_MS));
    engineReport = {
      reachable: true,
      chosenBy,
      url: info.url,
      source: info.source,
      apiVersion: info.apiVersion,
      engineVersion: info.serverVersion,
      platform: `${info.os}/${info.arch}`,
      attempts: engine.attempts(),
    };
  } catch (e) {
    const attempts = engine.attempts();
    engineReport = {
      reachable: false,
      chosenBy,
      attempts,
      problem: (e as Error).message,
      advice: adviceFor(config, attempts, chosenBy),
    };
  }
  return {
    version: VERSION,
    healthy: engineReport.reachable,
    engine: engineReport,
    safety: await safetyOf(config, rt),
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

function adviceFor(config: Config, attempts: Attempt[], chosenBy: string): string {
  const where =
    attempts.length === 1 ? `no engine at ${attempts[0]?.url}` : 'no engine at any endpoint tried';
  if (attempts.some((a) => a.outcome.startsWith('permission denied')))
    return `${where}: permission denied — add your user to the docker group (then log in again), or run as a user that may use the socket.`;
  if (config.dockerHost)
    return `${where} — is Docker running there? The endpoint comes from ${chosenBy}: fix it, or unset it to let mcp-docker find the engine.`;
  return `${where} — is Docker running? Start it (Docker Desktop, colima start, systemctl start docker), or set DOCKER_HOST or --docker-host to your engine's socket.`;
}

async function safetyOf(config: Config, rt: Runtime): Promise<DoctorReport['safety']> {
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

const on = (b: boolean) => (b ? 'on' : 'off');
const list = (xs: string[], none = 'none') => (xs.length > 0 ? xs.join(', ') : none);

/** The human-readable report: one fact per line, problems first-class. */
export function formatReport(r: DoctorReport): string {
  const e = r.engine;
  const s = r.safety;
  const lines = [`mcp-docker ${r.version} doctor`, '', 'Engine'];
  if (e.reachable) {
    lines.push(
      `  ok      ${e.url} (${e.source})`,
      `  chosen  by ${e.chosenBy}`,
      `  engine  Docker ${e.engineVersion} on ${e.platform}, API ${e.apiVersion}`,
    );
  } else {
    lines.push(`  FAIL    ${e.advice}`, `  chosen  by ${e.chosenBy}`);
    for (const a of e.attempts) lines.push(`  tried   ${a.url} (${a.source}): ${a.outcome}`);
    if (e.attempts.length === 0) lines.push(`  why     ${e.problem}`);
  }
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
