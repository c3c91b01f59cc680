/** The service settings create and update share (what `docker service create` takes, by our names). */
import Type from 'typebox';
import { MAX_VALUE, StringList, StringMap } from '../params.ts';

const Seconds = (description?: string) =>
  Type.Optional(Type.Number({ minimum: 0, maximum: 86_400, description }));

const policy = <F extends string>(failure: F[]) =>
  Type.Optional(
    Type.Object(
      {
        parallelism: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
        delay: Seconds(),
        failure_action: Type.Optional(Type.Enum(failure)),
        monitor: Seconds(),
        order: Type.Optional(Type.Enum(['stop-first', 'start-first'])),
      },
      { additionalProperties: false },
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
  ports: StringList(256, '"8080:80", "53:53/udp" or "mode=host,published=80,target=80"; on every node'),
  networks: StringList(256),
  constraints: StringList(MAX_VALUE, 'e.g. node.role==worker'),
  limit_cpus: Type.Optional(Type.Number({ minimum: 0, maximum: 4096 })),
  limit_memory: Type.Optional(Type.Integer({ minimum: 0, description: 'Bytes' })),
  update_config: policy(['pause', 'continue', 'rollback']),
  rollback_config: policy(['pause', 'continue']),
};
