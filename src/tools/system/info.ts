/** What the engine is: its configuration and resources (info), and its build (version). */
import Type from 'typebox';
import { defineTool } from '../../core/tool.ts';
import { MAX_API_VERSION } from '../../docker/engine.ts';
import { Full } from '../params.ts';
import { system } from './engine-api.ts';

/** 'name=seccomp,profile=default' → 'seccomp,profile=default': the name is what people look for. */
const securityOption = (o: string) => o.replace(/^name=/, '');

export const systemInfo = defineTool({
  name: 'docker_system_info',
  title: 'Engine info',
  description: 'Engine host, resources, counts, drivers and warnings.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object({ full: Full }, { additionalProperties: false }),
  output: Type.Object({}, { additionalProperties: true }),
  // The engine's host name and data root, and addresses in warnings, proxies and mirrors, map the
  // operator's machines: hidden from remote callers, as errors hide them.
  hostDetails: [
    'name',
    'root_dir',
    'warnings',
    'registry_mirrors',
    'Name',
    'DockerRootDir',
    'Warnings',
    'HttpProxy',
    'HttpsProxy',
    'NoProxy',
    'RegistryConfig.Mirrors',
    'RegistryConfig.InsecureRegistryCIDRs',
    'RegistryConfig.IndexConfigs',
    'Swarm.NodeAddr',
    'Swarm.RemoteManagers',
  ],
  handler: async ({ full }, { engine: { docker }, signal }) => {
    const i = await system(docker).info({ abortSignal: signal });
    if (full) return i as Record<string, unknown>;
    const mirrors = i.RegistryConfig?.Mirrors ?? [];
    const warnings = i.Warnings ?? [];
    return {
      name: i.Name ?? '',
      server_version: i.ServerVersion ?? '',
      os: i.OperatingSystem ?? '',
      os_type: i.OSType ?? '',
      kernel: i.KernelVersion ?? '',
      arch: i.Architecture ?? '',
      cpus: i.NCPU ?? 0,
      memory: i.MemTotal ?? 0,
      containers: {
        total: i.Containers ?? 0,
        running: i.ContainersRunning ?? 0,
        paused: i.ContainersPaused ?? 0,
        stopped: i.ContainersStopped ?? 0,
      },
      images: i.Images ?? 0,
      storage_driver: i.Driver ?? '',
      root_dir: i.DockerRootDir ?? '',
      cgroup_driver: i.CgroupDriver ?? '',
      cgroup_version: i.CgroupVersion ?? '',
      logging_driver: i.LoggingDriver ?? '',
      runtime: i.DefaultRuntime ?? '',
      swarm: i.Swarm?.LocalNodeState || 'inactive',
      security_options: (i.SecurityOptions ?? []).map(securityOption),
      ...(i.ExperimentalBuild && { experimental: true }),
      ...(i.LiveRestoreEnabled && { live_restore: true }),
      ...(mirrors.length > 0 && { registry_mirrors: mirrors }),
      ...(warnings.length > 0 && { warnings }),
    };
  },
});

export const dockerVersion = defineTool({
  name: 'docker_version',
  title: 'Versions',
  description: 'Versions of this server and the engine, with API versions.',
  safety: 'safe',
  idempotent: true,
  input: Type.Object({}, { additionalProperties: false }),
  output: Type.Object({
    client: Type.Object({
      name: Type.String(),
      version: Type.String(),
      max_api_version: Type.String({ description: 'Newest Engine API it speaks' }),
    }),
    server: Type.Object({
      version: Type.String(),
      api_version: Type.String(),
      negotiated_api_version: Type.Optional(Type.String({ description: 'API version in use' })),
      min_api_version: Type.String(),
      go_version: Type.String(),
      os: Type.String(),
      arch: Type.String(),
      kernel: Type.Optional(Type.String()),
      git_commit: Type.String(),
      build_time: Type.String(),
      experimental: Type.Optional(Type.Boolean()),
      platform: Type.Optional(Type.String()),
      components: Type.Array(Type.Object({ name: Type.String(), version: Type.String() })),
    }),
  }),
  handler: async (_args, { engine, signal, server }) => {
    const v = await system(engine.docker).version({ abortSignal: signal });
    const negotiated = engine.apiVersion;
    const experimental = v.Experimental === true || v.Experimental === 'true';
    return {
      client: { name: 'mcp-docker', version: server.version, max_api_version: MAX_API_VERSION },
      server: {
        version: v.Version ?? '',
        api_version: v.ApiVersion ?? '',
        ...(negotiated && { negotiated_api_version: negotiated }),
        min_api_version: v.MinAPIVersion ?? '',
        go_version: v.GoVersion ?? '',
        os: v.Os ?? '',
        arch: v.Arch ?? '',
        ...(v.KernelVersion && { kernel: v.KernelVersion }),
        git_commit: v.GitCommit ?? '',
        build_time: v.BuildTime ?? '',
        ...(experimental && { experimental }),
        ...(v.Platform?.Name && { platform: v.Platform.Name }),
        components: (v.Components ?? []).map((c) => ({ name: c.Name, version: c.Version })),
      },
    };
  },
});
