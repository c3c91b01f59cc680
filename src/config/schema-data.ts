/**
 * Run at build time (a Bun macro, imported by fields.ts): the config schema as plain JSON, so the
 * binary's start reads its fields without building the schema with TypeBox.
 */
import { ConfigSchema } from './schema.ts';

export function configSchemaData(): unknown {
  return JSON.parse(JSON.stringify(ConfigSchema));
}
