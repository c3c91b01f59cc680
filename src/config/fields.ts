/**
 * The config schema as data: schema.ts's TypeBox schema, serialized when the code is built (a Bun
 * macro), so a start loads and runs none of TypeBox (~4 MiB of RSS after initialize and ~1.5 ms of
 * cold start, bench/changes.md). Everything the config code reads at run time comes from here.
 */
import type { FieldSchema } from './meta.ts';
import type { ConfigKey, ConfigSchema } from './schema.ts';
import { configSchemaData } from './schema-data.ts' with { type: 'macro' };

export const CONFIG_SCHEMA = configSchemaData() as typeof ConfigSchema;

/** Every field with its metadata, in schema order (which is section order). */
export const FIELDS = Object.entries(CONFIG_SCHEMA.properties) as unknown as [ConfigKey, FieldSchema][];
export const fieldOf = (key: ConfigKey) => CONFIG_SCHEMA.properties[key] as unknown as FieldSchema;
