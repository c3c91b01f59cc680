/**
 * `docker stack deploy` natively: a loaded Compose project becomes overlay networks, secrets,
 * configs and services named `<stack>_<name>` and labelled `com.docker.stack.namespace`, in that
 * order. Every service spec passes the policy and every secret or config file the host-path rule
 * before anything is made, so a refused stack leaves nothing behind. Existing services are updated
 * in place (their version, their replicas when the file sets none); `prune` removes the stack's
 * services the file no longer has. Knows nothing of MCP or of any tool.
 */
import type Dockerode from 'dockerode';
import type { EngineFacts } from '../../core/engine.ts';
import { reword, ToolError } from '../../core/errors.ts';
import type { ProgressFn } from '../../core/progress.ts';
import type { Project } from '../compose/load.ts';
import { badName } from '../compose/names.ts';
import type { Obj } from '../compose/normalise.ts';
import { networkAddressing } from '../compose/resources.ts';
import { engineError, engineSaid } from '../errors.ts';
import { readHostFile } from '../host-files.ts';
import { composeIpam } from '../policy/addresses.ts';
import { checkNetworkCreate } from '../policy/rules.ts';
import { currentPolicy, pathPolicyOf, ruleContextOf } from '../policy/scope.ts';
import { checkServiceSpec, type ServiceLookup } from '../policy/service.ts';
import { engineRequest } from '../request.ts';
import { swarmError, swarmRefusal, swarmRequest } from './api.ts';
import { type BlobKind, createBlob, findBlob, updateBlob } from './secrets.ts';
import { inComposeTerms } from './service-refusal.ts';
import type { ServiceDoc, ServiceSpec } from './service-spec.ts';
import { updateServiceSpec } from './services.ts';
import { stackServices } from './stack.ts';
import {
  type ConvertedService,
  convertService,
  NAMESPACE,
  type SpecRefs,
  stackName,
  stackNetworks,
} from './stack-spec.ts';

type Engine = { resolveFacts(signal?: AbortSignal): Promise<EngineFacts> };

export interface DeployOptions {
  /** Remove the stack's services that the file no longer has. */
  prune?: boolean;
  /** With prune, remove only these (service IDs): those the user was shown. */
  pruneOnly?: readonly string[];
  /** Interpolation variables (the call's env), for secrets declared with `environment:`. */
  vars: Readonly<Record<string, string | undefined>>;
  progress: ProgressFn;
  signal: AbortSignal;
}

export interface DeployResult {
  stack: string;
  steps: string[];
  /** "service: key" for keys a swarm service does not honour. */
  ignored: string[];
  /** Some service publishes a port (on every node: Swarm cannot bind an address). */
  publishes: boolean;
}

const str = (v: unknown): string => (v === null || v === undefined ? '' : String(v));
const isExternal = (def: Obj | undefined) => def?.external === true || typeof def?.external === 'object';

interface Blob {
  kind: BlobKind;
  key: string;
  name: string;
  external: boolean;
  data?: Buffer;
  labels: Record<string, string>;
}

/** The stack's secrets and configs, with their data read now (files through the host-path rule). */
/** Above the engine's own limits (a secret 500 KB, a config 1000 KB): it gives the precise refusal. */
const MAX_BLOB_BYTES = 1024 * 1024;

async function readBlobs(engine: Engine, p: Project, stack: string, o: DeployOptions): Promise<Blob[]> {
  const out: Blob[] = [];
  for (const [plural, kind] of [
    ['secrets', 'secret'],
    ['configs', 'config'],
  ] as const)
    for (const [key, def] of Object.entries(p[plural])) {
      const name = stackName(stack, key, def);
      const labels = { ...(def.labels as Record<string, string> | undefined), [NAMESPACE]: stack };
      if (isExternal(def)) {
        out.push({ kind, key, name, external: true, labels });
        continue;
      }
      let data: Buffer;
      if (typeof def.file === 'string') {
        const read = await readHostFile(engine, def.file, `${plural}.${key}.file`, MAX_BLOB_BYTES, o.signal);
        if (!read)
          throw new ToolError('invalid_argument', `${kind} "${key}": file ${def.file} does not exist`, {
            hint: 'Check the path (relative to project_dir).',
          });
        data = read;
      } else if (typeof def.environment === 'string') {
        const v = o.vars[def.environment];
        if (v === undefined)
          throw new ToolError(
            'invalid_argument',
            `${kind} "${key}": variable ${def.environment} is not set`,
            {
              hint: 'Pass it in env.',
            },
          );
        data = Buffer.from(v);
      } else if (kind === 'config' && typeof def.content === 'string') {
        data = Buffer.from(def.content);
      } else
        throw new ToolError('invalid_argument', `${kind} "${key}" has no file, environment or content`, {
          hint: `Give it file: (or environment:), or mark it external.`,
        });
      out.push({ kind, key, name, external: false, data, labels });
    }
  return out;
}

const get = <T>(docker: Dockerode, path: string, signal: AbortSignal) =>
  engineRequest<T>(docker, { path }, signal).catch((e) => {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw swarmError(e);
  });

export async function deployStack(
  docker: Dockerode,
  engine: Engine,
  p: Project,
  o: DeployOptions,
): Promise<DeployResult> {
  const stack = p.name;
  const { signal } = o;
  const services = Object.keys(p.services).sort();
  if (services.length === 0)
    throw new ToolError('invalid_argument', `the project has no services to deploy`, {
      hint: 'Check profiles, or add services to the file.',
    });

  // Everything is read and checked before anything is made, starting with the engine: the stack's
  // services as they are now (an engine that is no swarm manager, or Podman, is refused here).
  const existing = new Map((await stackServices(docker, stack, signal)).map((s) => [s.Spec.Name ?? '', s]));
  const blobs = await readBlobs(engine, p, stack, o);
  const netKeys = [
    ...new Set(services.flatMap((s) => Object.keys(stackNetworks(p.services[s] as Obj)))),
  ].sort();
  // The names go into request paths: one the engine's rule refuses is refused before any is looked up.
  for (const [kind, key, name] of [
    ...netKeys.map((k) => ['network', k, stackName(stack, k, p.networks[k])] as const),
    ...blobs.map((b) => [b.kind, b.key, b.name] as const),
  ]) {
    const bad = badName(kind, key, name);
    if (bad) throw reword(bad, (m) => `${m} (nothing was deployed)`);
  }
  const placeholder: SpecRefs = {
    secrets: new Map(blobs.filter((b) => b.kind === 'secret').map((b) => [b.name, '-'])),
    configs: new Map(blobs.filter((b) => b.kind === 'config').map((b) => [b.name, '-'])),
  };
  const converted = services.map((s) => convertService(p, stack, s, placeholder));
  const scope = currentPolicy();
  const facts = {
    sharesFilesystem: true,
    socketPaths: [],
    ...(await engine.resolveFacts(signal).catch(() => undefined)),
  };
  const ctx = ruleContextOf(scope, pathPolicyOf(scope, facts));
  // A service's host paths are on whichever node runs its tasks: judged as on an engine elsewhere.
  const onNodes = ruleContextOf(scope, () => pathPolicyOf(scope, facts, true));
  const lookup: ServiceLookup = {
    volume: (name) => get(docker, `/volumes/${encodeURIComponent(name)}`, signal),
    network: (ref) => get(docker, `/networks/${encodeURIComponent(ref)}`, signal),
  };
  for (const [i, c] of converted.entries()) {
    try {
      await checkServiceSpec(c.spec, onNodes, lookup);
    } catch (e) {
      throw inComposeTerms(e, services[i] ?? c.name, ' (nothing was deployed)');
    }
  }
  for (const key of netKeys) {
    const def = p.networks[key];
    if (isExternal(def)) continue;
    try {
      checkNetworkCreate(
        { driver: def?.driver || 'overlay', options: def?.driver_opts, addresses: composeIpam(def, key) },
        { driver: `network "${key}" driver`, options: `network "${key}" driver_opts` },
        ctx,
      );
    } catch (e) {
      if (!(e instanceof ToolError)) throw e;
      throw reword(e, (m) => `${m} (nothing was deployed)`);
    }
  }
  for (const key of netKeys) {
    const def = p.networks[key];
    if (
      isExternal(def) &&
      !(await get(docker, `/networks/${encodeURIComponent(stackName(stack, key, def))}`, signal))
    )
      throw new ToolError('not_found', `external network "${stackName(stack, key, def)}" does not exist`, {
        hint: 'Create it first (an overlay network, attachable if containers join it too).',
      });
  }
  for (const b of blobs.filter((x) => x.external))
    if (!(await findBlob(docker, b.kind, b.name, signal)))
      throw new ToolError('not_found', `external ${b.kind} "${b.name}" does not exist`, {
        hint: `Create it first (docker_${b.kind}_create).`,
      });

  const steps: string[] = [];
  const total = netKeys.length + blobs.length + services.length;
  const step = (s: string) => {
    steps.push(s);
    o.progress(steps.length, total, s);
  };
  // What the engine is being asked to make now, for an error that names it.
  let making = '';
  try {
    // Networks.
    for (const key of netKeys) {
      const def = p.networks[key] ?? {};
      if (isExternal(def)) continue;
      const name = stackName(stack, key, def);
      making = `network "${key}"`;
      if (await get(docker, `/networks/${encodeURIComponent(name)}`, signal)) continue;
      await engineRequest(
        docker,
        {
          path: '/networks/create',
          method: 'POST',
          body: {
            Name: name,
            CheckDuplicate: true,
            Driver: str(def.driver || 'overlay'),
            Labels: { ...(def.labels as Record<string, string> | undefined), [NAMESPACE]: stack },
            Attachable: def.attachable === true,
            Internal: def.internal === true,
            ...(def.driver_opts !== undefined && { Options: def.driver_opts }),
            ...networkAddressing(def),
          },
        },
        signal,
      );
      step(`network ${name} created`);
    }
    // Secrets and configs.
    const refs: SpecRefs = { secrets: new Map(), configs: new Map() };
    for (const b of blobs) {
      making = `${b.kind} "${b.key}"`;
      const found = await findBlob(docker, b.kind, b.name, signal);
      const ids = b.kind === 'secret' ? refs.secrets : refs.configs;
      if (b.external) {
        ids.set(b.name, (found as { ID: string }).ID);
        continue;
      }
      const spec = { name: b.name, data: b.data as Buffer, labels: b.labels };
      if (found) {
        await updateBlob(docker, b.kind, found, spec, signal);
        ids.set(b.name, found.ID);
        step(`${b.kind} ${b.name} updated`);
      } else {
        ids.set(b.name, await createBlob(docker, b.kind, spec, signal));
        step(`${b.kind} ${b.name} created`);
      }
    }
    // Services: updated in place, or created.
    for (const s of services) {
      making = `service "${s}"`;
      const c: ConvertedService = convertService(p, stack, s, refs);
      const current = existing.get(c.name);
      if (current) await updateService(docker, current, c.spec, signal);
      else await engineRequest(docker, { path: '/services/create', method: 'POST', body: c.spec }, signal);
      step(`service ${c.name} ${current ? 'updated' : 'created'}`);
    }
    if (o.prune) {
      const wanted = new Set(converted.map((c) => c.name));
      for (const [name, svc] of [...existing].sort(([a], [b]) => a.localeCompare(b)))
        if (!wanted.has(name) && (!o.pruneOnly || o.pruneOnly.includes(svc.ID))) {
          making = `service "${name}" (pruned)`;
          await engineRequest(docker, { path: `/services/${svc.ID}`, method: 'DELETE' }, signal);
          step(`service ${name} removed`);
        }
    }
  } catch (e) {
    throw failedPart(e, making, steps, signal);
  }
  const ignored = converted.flatMap((c) => c.ignored.map((k) => `${c.name}: ${k}`));
  const publishes = converted.some(
    (c) => ((c.spec.EndpointSpec as Obj | undefined)?.Ports as unknown[] | undefined)?.length,
  );
  return { stack, steps, ignored, publishes: !!publishes };
}

const NEXT = '(what exists is updated in place), or remove the stack with docker_stack_remove.';

/**
 * An engine failure part-way through a deploy as the caller should read it: its kind (a spec the
 * manager refused is invalid_argument, not internal), the object being made (a service with the
 * Compose key the engine's words point to), and what exists now, as docker_compose_up says it.
 * An aborted call is answered by the pipeline with its own reason.
 */
function failedPart(e: unknown, making: string, steps: string[], signal: AbortSignal): unknown {
  if (signal.aborted) return e;
  const base = swarmRefusal(e) ?? engineError(e);
  if (!base) return e;
  const key =
    making.startsWith('service ') && !(e instanceof ToolError) ? composeKeyOf(base.message) : undefined;
  const exists = steps.length
    ? `done before it stopped: ${steps.join(', ')}`
    : 'nothing was created or changed';
  return reword(
    base,
    (m) => `${making}${key ? ` (key ${key})` : ''}: ${m}; ${exists}`,
    (h) => {
      // A refused spec is the file's to fix; other failures keep their own next step.
      const fix = base.kind === 'invalid_argument' ? 'Fix it in the Compose file and deploy again' : '';
      if (!steps.length) return fix ? `${fix}.` : h;
      return fix ? `${fix} ${NEXT}` : `${h ? `${h} ` : ''}Deploy again to finish ${NEXT}`;
    },
  );
}

/** The Compose key an engine refusal of a service spec points to, by the words it uses; first match. */
const KEYS: [RegExp, string][] = [
  [/constraint/i, 'deploy.placement.constraints'],
  [/preference|spread|max.?replicas|placement/i, 'deploy.placement'],
  [/rollback/i, 'deploy.rollback_config'],
  [/update.?config|parallelism|failure.?action|monitor/i, 'deploy.update_config'],
  [/restart/i, 'deploy.restart_policy'],
  [/health/i, 'healthcheck'],
  [/generic.?resource|reservation|nanocpus|memory|cpu|resource/i, 'deploy.resources'],
  [/\bports?\b|ingress|published/i, 'ports'],
  [/\bsecret/i, 'secrets'],
  [/\bconfigs?\b/i, 'configs'],
  [/mount|volume|bind|tmpfs/i, 'volumes'],
  [/network|alias/i, 'networks'],
  [/\bmode\b|replicas|global/i, 'deploy.mode'],
  [/image|reference/i, 'image'],
];
const composeKeyOf = (message: string): string | undefined => KEYS.find(([re]) => re.test(message))?.[1];

/** The stack's services the project no longer has, by name: what a deploy with `prune` removes. */
export async function servicesGone(
  docker: Dockerode,
  p: Project,
  signal: AbortSignal,
): Promise<{ id: string; name: string }[]> {
  const wanted = new Set(Object.keys(p.services).map((s) => stackName(p.name, s, undefined)));
  return (await stackServices(docker, p.name, signal))
    .filter((s) => !wanted.has(s.Spec.Name ?? ''))
    .map((s) => ({ id: s.ID, name: s.Spec.Name ?? '' }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * A new spec for an existing service, sent with the version already read; its replica count stays
 * when the file sets none (as the CLI). Another writer in between: read again and retry (services.ts).
 */
async function updateService(docker: Dockerode, current: ServiceDoc, spec: Obj, signal: AbortSignal) {
  const next = (now: ServiceDoc) => {
    const out = structuredClone(spec) as ServiceSpec;
    const replicas = now.Spec.Mode?.Replicated?.Replicas;
    if (out.Mode?.Replicated && out.Mode.Replicated.Replicas === undefined && replicas !== undefined)
      out.Mode.Replicated.Replicas = replicas;
    return out;
  };
  try {
    await swarmRequest(
      docker,
      {
        path: `/services/${current.ID}/update`,
        method: 'POST',
        query: { version: current.Version?.Index ?? 0 },
        body: next(current),
      },
      signal,
    );
  } catch (e) {
    if (!/update out of sequence/i.test(engineSaid(e))) throw e;
    await updateServiceSpec(docker, current.ID, next, signal);
  }
}
