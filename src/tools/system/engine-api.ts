/**
 * The engine's system endpoints as the system tools read them. Dockerode's info, df, version and
 * ping take `{ abortSignal }` but its typings omit the argument and type the answers as `any`, so
 * this file gives both a shape, once.
 */
import type Dockerode from 'dockerode';

export interface EngineSystemInfo {
  Name?: string;
  ServerVersion?: string;
  OperatingSystem?: string;
  OSType?: string;
  KernelVersion?: string;
  Architecture?: string;
  NCPU?: number;
  MemTotal?: number;
  Containers?: number;
  ContainersRunning?: number;
  ContainersPaused?: number;
  ContainersStopped?: number;
  Images?: number;
  Driver?: string;
  DockerRootDir?: string;
  CgroupDriver?: string;
  CgroupVersion?: string;
  LoggingDriver?: string;
  DefaultRuntime?: string;
  Swarm?: { LocalNodeState?: string };
  SecurityOptions?: string[] | null;
  ExperimentalBuild?: boolean;
  LiveRestoreEnabled?: boolean;
  RegistryConfig?: { Mirrors?: string[] | null } | null;
  Warnings?: string[] | null;
}

export interface EngineVersion {
  Version?: string;
  ApiVersion?: string;
  MinAPIVersion?: string;
  GitCommit?: string;
  GoVersion?: string;
  Os?: string;
  Arch?: string;
  KernelVersion?: string;
  BuildTime?: string;
  Experimental?: boolean | string;
  Platform?: { Name?: string };
  Components?: { Name: string; Version: string }[] | null;
}

export interface DiskUsageImage {
  Id: string;
  RepoTags?: string[] | null;
  Created: number;
  Size: number;
  SharedSize: number;
  Containers: number;
}

export interface DiskUsageContainer {
  Id: string;
  Names?: string[];
  Image: string;
  State: string;
  Created: number;
  SizeRw?: number;
}

export interface DiskUsageVolume {
  Name: string;
  Driver: string;
  UsageData?: { Size: number; RefCount: number } | null;
}

export interface DiskUsageBuildCache {
  ID: string;
  Type?: string;
  Description?: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  LastUsedAt?: string | null;
}

export interface EngineDiskUsage {
  LayersSize?: number;
  Images?: DiskUsageImage[] | null;
  Containers?: DiskUsageContainer[] | null;
  Volumes?: DiskUsageVolume[] | null;
  BuildCache?: DiskUsageBuildCache[] | null;
}

interface SystemCalls {
  info(o: { abortSignal: AbortSignal }): Promise<EngineSystemInfo>;
  version(o: { abortSignal: AbortSignal }): Promise<EngineVersion>;
  df(o: { abortSignal: AbortSignal }): Promise<EngineDiskUsage>;
  ping(o: { abortSignal: AbortSignal }): Promise<unknown>;
}

/** The same client, with the system calls typed as the engine answers them. */
export const system = (docker: Dockerode) => docker as unknown as SystemCalls;
