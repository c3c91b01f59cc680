/** Parameter fragments the swarm tools share: references to services, nodes and tasks, and rows. */
import Type from 'typebox';
import { NAME_PATTERN } from '../../docker/names.ts';

/** A name or ID that goes into a request path: only the characters Swarm allows in names. */
const ref = (expects: string) =>
  Type.String({ minLength: 1, maxLength: 256, expects, pattern: NAME_PATTERN });

export const ServiceRef = ref('a service name or ID');
export const NodeRef = ref('a node hostname or ID');
export const TaskRef = ref('a task ID');

/** An engine document (full: true), or a compact row. */
export const Doc = Type.Record(Type.String(), Type.Unknown());

export const ServiceChangeOut = Type.Object({
  id: Type.String(),
  name: Type.String(),
  warnings: Type.Optional(Type.Array(Type.String())),
  note: Type.Optional(Type.String()),
});

/** Said whenever a spec publishes ports: Swarm cannot bind an address. */
export const PUBLISH_NOTE =
  'Published ports listen on every interface of every node (Swarm cannot bind an address); publish none to keep the service internal.';
