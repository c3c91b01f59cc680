/**
 * Swarm secrets and configs: the two kinds of named blobs a manager stores and hands to tasks. Both
 * are created, listed, inspected, relabelled and removed the same way; a secret's data never comes
 * back from the engine, a config's does (base64). Knows nothing of MCP or of any tool.
 */
import type Dockerode from 'dockerode';
import { ToolError } from '../../core/errors.ts';
import { engineSaid, isMissing, statusOf } from '../errors.ts';
import { swarmNotFound, swarmRequest } from './api.ts';

export type BlobKind = 'secret' | 'config';

/** A secret or config as the engine returns it (a secret's Spec has no Data). */
export interface SwarmBlob {
  ID: string;
  Version: { Index: number };
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec: {
    Name: string;
    Labels?: Record<string, string>;
    /** base64; configs only. */
    Data?: string;
    Driver?: { Name: string; Options?: Record<string, string> };
    Templating?: { Name: string };
  };
}

export interface BlobSpec {
  name: string;
  /** The bytes to store (sent base64). */
  data: Uint8Array | string;
  labels?: Record<string, string>;
}

const base = (kind: BlobKind) => (kind === 'secret' ? '/secrets' : '/configs');
const dataOf = (d: Uint8Array | string) => Buffer.from(d).toString('base64');

export function listBlobs(
  docker: Dockerode,
  kind: BlobKind,
  filters: Record<string, string[]> | undefined,
  signal: AbortSignal,
): Promise<SwarmBlob[]> {
  const query = filters && Object.keys(filters).length ? { filters: JSON.stringify(filters) } : {};
  return swarmRequest<SwarmBlob[]>(docker, { path: base(kind), query }, signal);
}

/** The object `ref` (ID, ID prefix or name) names; a miss is a not_found naming close names. */
export async function inspectBlob(
  docker: Dockerode,
  kind: BlobKind,
  ref: string,
  signal: AbortSignal,
): Promise<SwarmBlob> {
  try {
    return await swarmRequest<SwarmBlob>(
      docker,
      { path: `${base(kind)}/${encodeURIComponent(ref)}` },
      signal,
    );
  } catch (e) {
    if (!isMissing(e)) throw e;
    const names = (await listBlobs(docker, kind, undefined, signal).catch(() => [])).map((b) => b.Spec.Name);
    throw swarmNotFound(kind, ref, names, `docker_${kind}_list`);
  }
}

/** The object named exactly `name`, or undefined (the engine's name filter matches prefixes too). */
export async function findBlob(
  docker: Dockerode,
  kind: BlobKind,
  name: string,
  signal: AbortSignal,
): Promise<SwarmBlob | undefined> {
  return (await listBlobs(docker, kind, { name: [name] }, signal)).find((b) => b.Spec.Name === name);
}

export async function createBlob(
  docker: Dockerode,
  kind: BlobKind,
  spec: BlobSpec,
  signal: AbortSignal,
): Promise<string> {
  try {
    const res = await swarmRequest<{ ID: string }>(
      docker,
      {
        path: `${base(kind)}/create`,
        method: 'POST',
        body: { Name: spec.name, Labels: spec.labels ?? {}, Data: dataOf(spec.data) },
      },
      signal,
    );
    return res.ID;
  } catch (e) {
    if (statusOf(e) === 409)
      throw new ToolError('conflict', `${kind} '${spec.name}' already exists`, {
        hint: `Swarm ${kind}s cannot change their data: create one under a new name (e.g. ${spec.name}_v2) and point services at it, or remove the old one first.`,
      });
    throw e;
  }
}

/**
 * Sets an existing object's labels and data as `spec` says. The engine accepts only label changes:
 * different data is refused, and this says so without quoting it.
 */
export async function updateBlob(
  docker: Dockerode,
  kind: BlobKind,
  current: SwarmBlob,
  spec: BlobSpec,
  signal: AbortSignal,
): Promise<void> {
  try {
    await swarmRequest(
      docker,
      {
        path: `${base(kind)}/${current.ID}/update`,
        method: 'POST',
        query: { version: current.Version.Index },
        body: { ...current.Spec, Labels: spec.labels ?? {}, Data: dataOf(spec.data) },
      },
      signal,
    );
  } catch (e) {
    if (/only updates to labels/i.test(engineSaid(e)))
      throw new ToolError(
        'conflict',
        `${kind} '${spec.name}' exists with other data, and swarm ${kind}s are immutable`,
        {
          hint: `Give the ${kind} a new name in the Compose file (name: ${spec.name}_v2), or remove the stack first.`,
        },
      );
    throw e;
  }
}

/** Removes the object; false when it was already gone. A service still using it is a conflict. */
export async function removeBlob(
  docker: Dockerode,
  kind: BlobKind,
  id: string,
  signal: AbortSignal,
): Promise<boolean> {
  try {
    await swarmRequest(docker, { path: `${base(kind)}/${encodeURIComponent(id)}`, method: 'DELETE' }, signal);
    return true;
  } catch (e) {
    if (isMissing(e)) return false;
    if (statusOf(e) === 400 && /in use/i.test(engineSaid(e)))
      throw new ToolError('conflict', `${kind} '${id}' is in use: ${engineSaid(e)}`, {
        hint: `Remove the services using it first, or update them to drop the ${kind}.`,
      });
    throw e;
  }
}
