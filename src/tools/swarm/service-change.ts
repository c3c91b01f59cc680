/**
 * Changing services: create, update in place, scale, roll back, remove. Every spec passes the
 * engine guard (the container policy, src/docker/policy/service.ts) before the engine sees it.
 */
import Type from 'typebox';
import { defineTool } from '../../core/tool.ts';
import { NAME_EXPECTS, NAME_PATTERN } from '../../docker/names.ts';
import { serviceRow } from '../../docker/swarm/service-spec.ts';
import type { ServiceChange } from '../../docker/swarm/services.ts';
import {
  createService,
  inspectService,
  listServices,
  removeService,
  rollbackService,
  scaleService,
  updateService,
} from '../../docker/swarm/services.ts';
import { sameAsAsked } from '../asked.ts';
import { PUBLISH_NOTE, ServiceChangeOut, ServiceRef } from './params.ts';
import { capabilitiesSupported, serviceSettings } from './service-args.ts';

const noted = (r: ServiceChange, ports: readonly unknown[] | undefined) =>
  ports?.length ? { ...r, note: PUBLISH_NOTE } : r;

export const serviceCreate = defineTool({
  name: 'docker_service_create',
  title: 'Create service',
  description: 'Create a service or job; then docker_service_wait.',
  safety: 'moderate',
  idempotent: false,
  input: Type.Object(
    {
      name: Type.String({ minLength: 1, maxLength: 63, pattern: NAME_PATTERN, expects: NAME_EXPECTS }),
      ...serviceSettings,
      mode: Type.Optional(Type.Enum(['replicated', 'global', 'replicated-job', 'global-job'])),
    },
    { additionalProperties: false },
  ),
  output: ServiceChangeOut,
  secretArgs: ['env'],
  handler: async (args, { engine: { docker, apiVersion }, signal }) => {
    capabilitiesSupported(args, apiVersion);
    return noted(await createService(docker, args, signal), args.ports);
  },
});

export const serviceUpdate = defineTool({
  name: 'docker_service_update',
  title: 'Update service',
  description: 'Rolling update in place: settings given replace their part; the rest is kept.',
  safety: 'moderate',
  idempotent: false,
  input: Type.Object(
    {
      service: ServiceRef,
      ...serviceSettings,
      force: Type.Optional(Type.Boolean({ description: 'Restart tasks anyway' })),
    },
    { additionalProperties: false },
  ),
  output: ServiceChangeOut,
  secretArgs: ['env'],
  handler: async ({ service, ...args }, { engine: { docker, apiVersion }, signal }) => {
    capabilitiesSupported(args, apiVersion);
    return noted(await updateService(docker, service, args, signal), args.ports);
  },
});

export const serviceScale = defineTool({
  name: 'docker_service_scale',
  title: 'Scale service',
  description: 'Set replicas (a replicated job: completions).',
  safety: 'moderate',
  idempotent: true,
  input: Type.Object(
    { service: ServiceRef, replicas: Type.Integer({ minimum: 0, maximum: 10_000 }) },
    { additionalProperties: false },
  ),
  output: ServiceChangeOut,
  handler: async ({ service, replicas }, { engine: { docker }, signal }) =>
    scaleService(docker, service, replicas, signal),
});

export const serviceRollback = defineTool({
  name: 'docker_service_rollback',
  title: 'Roll back service',
  description: 'Go back to the spec before the last update.',
  safety: 'moderate',
  idempotent: false,
  input: Type.Object({ service: ServiceRef }, { additionalProperties: false }),
  output: ServiceChangeOut,
  handler: async ({ service }, { engine: { docker }, signal }) => rollbackService(docker, service, signal),
});

export const serviceRemove = defineTool({
  name: 'docker_service_remove',
  title: 'Remove service',
  description: 'Remove a service and stop its tasks.',
  safety: 'destructive',
  idempotent: false,
  input: Type.Object({ service: ServiceRef }, { additionalProperties: false }),
  output: ServiceChangeOut,
  preview: async ({ service }, { engine: { docker }, signal }) => {
    const s = await inspectService(docker, service, signal);
    const row = serviceRow((await listServices(docker, { id: [s.ID] }, signal))[0] ?? s);
    return {
      action: `remove service '${row.name}' (${row.id}; ${row.image}; ${row.mode}, ${row.replicas} running) and stop its tasks`,
      objects: [`service ${row.name}`],
      plan: { id: s.ID },
    };
  },
  handler: async ({ service }, { engine: { docker }, signal, confirmed }) => {
    if (confirmed === undefined) return removeService(docker, service, signal);
    const s = await inspectService(docker, service, signal);
    sameAsAsked(confirmed, 'id', s.ID, `service '${service}'`, (v) => String(v).slice(0, 12));
    return removeService(docker, s.ID, signal);
  },
});
