/**
 * The dockerode options for one engine, from its endpoint alone: a unix or npipe socket; https with
 * the engine's ca, cert and key (or without checking the certificate when tlsVerify is false); or
 * HTTP over the engine's SSH transport. Every option is set, so nothing comes from the process env.
 */
import type { Agent } from 'node:http';
import type Dockerode from 'dockerode';
import { ToolError } from '../core/errors.ts';
import type { Candidate, FileReader } from './discovery.ts';

export const unixPath = (url: string): string | undefined =>
  url.startsWith('unix://') ? url.slice('unix://'.length) : undefined;

/**
 * docker-modem fills unset options from DOCKER_HOST, DOCKER_CERT_PATH… of the process env; each
 * engine's client is built from its own settings only, so those are set (to nothing) explicitly.
 */
const NO_ENV_DEFAULTS = {
  host: undefined,
  port: undefined,
  protocol: undefined,
  ca: undefined,
  cert: undefined,
  key: undefined,
  username: undefined,
} as const;

/** What some kinds of engine need beyond the candidate: loaded by the caller only when needed. */
export interface TransportParts {
  /** ssh://: the engine's SSH transport's agent (ssh/transport.ts). */
  sshAgent?: Agent;
  /** tcp:// with TLS and verification off: node:https, for an agent that does not check the certificate. */
  https?: typeof import('node:https');
}

export function dockerOptions(
  c: Candidate,
  fs: FileReader,
  parts: TransportParts = {},
): Dockerode.DockerOptions {
  const { sshAgent } = parts;
  const socketPath = unixPath(c.url);
  if (socketPath) return { ...NO_ENV_DEFAULTS, socketPath };
  if (c.url.startsWith('npipe://')) return { ...NO_ENV_DEFAULTS, socketPath: c.url.slice('npipe://'.length) };
  const u = new URL(c.url);
  if (u.protocol === 'ssh:') {
    if (!sshAgent) throw new Error('an ssh:// engine needs its SSH transport');
    // HTTP over dial-stdio channels of the engine's one SSH connection (ssh/transport.ts).
    return {
      ...NO_ENV_DEFAULTS,
      protocol: 'http',
      host: 'docker',
      port: 80,
      agent: sshAgent,
    } as Dockerode.DockerOptions;
  }
  if (u.protocol === 'tcp:' || u.protocol === 'http:' || u.protocol === 'https:') {
    const tls = c.tls && (c.tls.verify || c.tls.cert);
    const read = (p?: string) => (p ? fs.readText(p) : undefined);
    const files = tls ? { ca: read(c.tls?.ca), cert: read(c.tls?.cert), key: read(c.tls?.key) } : {};
    return {
      ...NO_ENV_DEFAULTS,
      host: u.hostname,
      port: u.port ? Number(u.port) : tls ? 2376 : 2375,
      protocol: tls || u.protocol === 'https:' ? 'https' : 'http',
      ...files,
      // tlsVerify false (the Docker CLI's --tls without --tlsverify): encrypted, the certificate not checked.
      ...(tls &&
        c.tls &&
        !c.tls.verify && { agent: new (needHttps(parts).Agent)({ rejectUnauthorized: false, ...files }) }),
    } as Dockerode.DockerOptions;
  }
  throw new ToolError('engine_unreachable', `unsupported engine address '${c.url}'`, {
    hint: 'Use unix://, tcp://, npipe:// or ssh:// in DOCKER_HOST.',
    retryable: false,
  });
}

const needHttps = (parts: TransportParts) => {
  if (!parts.https) throw new Error('a tcp:// engine without certificate checks needs node:https');
  return parts.https;
};
