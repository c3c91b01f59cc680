/** The service settings create and update share (what `docker service create` takes, by our names). */
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { apiAtLeast } from '../../docker/engine.ts';
import { MAX_CPUS } from '../../docker/spec-values.ts';
import { MAX_VALUE, StringList, StringMap } from '../params.ts';

const Seconds = (description?: string) =>
  Type.Optional(Type.Number({ minimum: 0, maximum: 86_400, description }));

const policy = <F extends string>(failure: F[], description?: string) =>
  Type.Optional(
    Type.Object(
      {
        parallelism: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
        delay: Seconds(),
        failure_action: Type.Optional(Type.Enum(failure)),
        monitor: Seconds(),
        order: Type.Optional(Type.Enum(['stop-first', 'start-first'])),
      },
      { additionalProperties: false, description },
    ),
  );

export const serviceSettings = {
  image: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_VALUE })),
  command: StringList(131_072, 'argv'),
  env: StringMap(undefined, 131_072),
  labels: StringMap(),
  replicas: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  mode: Type.Optional(Type.Enum(['replicated', 'global'])),
  mounts: StringList(MAX_VALUE, 'src:dst[:ro]; /src binds, name: volume, tmpfs:/dst'),
  ports: StringList(256, '"8080:80", "53:53/udp", "mode=host,published=80,target=80"'),
  networks: StringList(256),
  constraints: StringList(MAX_VALUE, 'e.g. node.role==worker'),
  limit_cpus: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_CPUS })),
  limit_memory: Type.Optional(
    Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Bytes' }),
  ),
  cap_add: StringList(64),
  cap_drop: StringList(64),
  update_config: policy(['pause', 'continue', 'rollback'], 'delay, monitor: seconds'),
  rollback_config: policy(['pause', 'continue']),
};

/**
 * Capabilities in a service spec are Engine API 1.41 (Docker 20.10) and newer; an older engine would
 * drop them silently, and a service asked to drop capabilities would run with them.
 */
export function capabilitiesSupported(
  args: { cap_add?: unknown; cap_drop?: unknown },
  apiVersion: string,
): void {
  const asked = args.cap_add !== undefined ? 'cap_add' : args.cap_drop !== undefined ? 'cap_drop' : undefined;
  if (asked && !apiAtLeast(apiVersion || '0', '1.41'))
    throw new ToolError(
      'invalid_argument',
      `${asked} needs Engine API 1.41 (Docker 20.10) or newer; this engine speaks ${apiVersion || 'an older API'}`,
      { hint: `leave ${asked} out, or upgrade the engine` },
    );
}
