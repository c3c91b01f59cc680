/** Output schemas of compact container shapes (the shapes themselves are built in src/docker/containers.ts). */
import Type from 'typebox';

export const ContainerRow = Type.Object({
  id: Type.String(),
  name: Type.String(),
  image: Type.String(),
  state: Type.String(),
  status: Type.String(),
  ports: Type.Optional(Type.Array(Type.String())),
});

/** The state block every lifecycle tool returns. */
export const ContainerState = Type.Object({
  id: Type.String(),
  name: Type.String(),
  state: Type.String(),
  exit_code: Type.Optional(Type.Integer({ description: 'Of the last exit' })),
  health: Type.Optional(Type.String()),
  ports: Type.Optional(Type.Array(Type.String(), { description: 'Published: host->container' })),
});
