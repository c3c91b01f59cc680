/**
 * The one factory from config to what the pipeline and the transports run with: main.ts, the HTTP
 * transport, `doctor` and the test helpers all build their pieces here, so none of them copies a
 * setting by hand. Plain data: the caller adds the engine (`new Engine(rt.engineSettings)`) and the
 * server facts (`serverFacts(version, rt.pipeline.profile)`), which live in layers config may not import.
 */
import type { Limits } from '../core/limits.ts';
import type { Toolset } from '../core/toolsets.ts';
import type { EngineConfig } from './engines.ts';
import { type HostEnv, inDir } from './host.ts';
import type { Config } from './schema.ts';
import { resolveToolsets } from './toolsets.ts';

/** The server-wide safety profile (the ceiling for every HTTP credential); the gate's SafetyProfile. */
export interface ServerProfile {
  allowModerate: boolean;
  allowDestructive: boolean;
  readOnly: boolean;
  allowedTools: string[];
  deniedTools: string[];
  toolsets: readonly Toolset[];
}

export interface Runtime {
  /** Every PipelineEnv field that comes from settings: spread it and add `engine` and `server`. */
  pipeline: {
    profile: ServerProfile;
    policy: { allowPrivileged: boolean; mountAllowlist: string[]; mountBlocklist: string[] };
    host: HostEnv;
    limits: Limits;
    defaultTimeoutMs: number;
    logFilter: Config['logFilter'];
    /** --confirm and --confirm-fallback; the transport adds who the caller is. */
    confirm: { mode: Config['confirm']; fallback: Config['confirmFallback']; timeoutSeconds: number };
    /** Where registry credentials are read from (config.json, credential helpers). */
    dockerConfigDir: string;
  };
  /** How to find and reach the engine: engine discovery's input (`new Engine(rt.engineSettings)`). */
  engineSettings: ReturnType<typeof engineSettingsOf>;
  /**
   * The configured engines (--engine, MCP_DOCKER_ENGINES, the file's `engines`), in order; empty when
   * none is: then one engine, 'default', found from engineSettings as before.
   */
  engines: EngineConfig[];
  /**
   * --shares-filesystem: whether engines on a local socket see this server's files (each engine's own
   * `sharesFilesystem` wins); unset: found (src/docker/facts.ts).
   */
  sharesFilesystem?: boolean;
  /** Prompt and resource filters, and how tools list output schemas (ServerDeps' fields of the same names). */
  content: { allowedPrompts: string[]; allowedResources: string[]; outputSchemas: Config['outputSchemas'] };
}

/** `sources` (where each setting came from) names the default engine's address in what it reports. */
export function runtimeOf(config: Config, host: HostEnv, sources: Record<string, string> = {}): Runtime {
  const dockerConfigDir = config.dockerConfigDir ?? inDir(host.home, '.docker', host.platform);
  return {
    pipeline: {
      profile: {
        allowModerate: config.allowModerate,
        allowDestructive: config.allowDestructive,
        readOnly: config.readOnly,
        allowedTools: config.allowedTools,
        deniedTools: config.deniedTools,
        toolsets: resolveToolsets(config.toolsets),
      },
      policy: {
        allowPrivileged: config.allowPrivileged,
        mountAllowlist: config.volumeMountAllowlist,
        mountBlocklist: config.volumeMountBlocklist,
      },
      host,
      limits: {
        maxResponseBytes: config.maxResponseBytes,
        maxExecOutputBytes: config.maxExecOutputBytes,
        maxLogLines: config.maxLogLines,
        maxListResults: config.maxListResults,
      },
      defaultTimeoutMs: config.timeoutSeconds * 1000,
      logFilter: config.logFilter,
      confirm: {
        mode: config.confirm,
        fallback: config.confirmFallback,
        timeoutSeconds: config.confirmTimeoutSeconds,
      },
      dockerConfigDir,
    },
    // An env variable by its name alone, as reports always named DOCKER_HOST; a flag or file key in full.
    engineSettings: engineSettingsOf(config, host, dockerConfigDir, sources.dockerHost?.replace(/^env /, '')),
    engines: config.engines ?? [],
    sharesFilesystem: config.sharesFilesystem,
    content: {
      allowedPrompts: config.allowedPrompts,
      allowedResources: config.allowedResources,
      outputSchemas: config.outputSchemas,
    },
  };
}

const engineSettingsOf = (
  config: Config,
  host: HostEnv,
  dockerConfigDir: string,
  dockerHostSource: string | undefined,
) => ({
  dockerHost: config.dockerHost,
  dockerHostSource,
  dockerContext: config.dockerContext,
  dockerConfigDir,
  tlsVerify: config.dockerTlsVerify,
  certPath: config.dockerCertPath,
  home: host.home,
  platform: host.platform,
  xdgRuntimeDir: host.xdgRuntimeDir,
  uid: host.uid,
  sshAuthSock: host.sshAuthSock,
  user: host.user,
});
