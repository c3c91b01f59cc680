/**
 * The layers — flags > env > config file > defaults — normalised to the same shape, merged (an unset
 * value never overrides a set one) and validated once. Errors name the key and the layer it came from.
 * The one place `process.env` is read is loadConfig's default argument (and host.ts).
 */
import { nodeFs } from '../core/node-builtins.ts';
import { fieldCheck } from './checks.ts';
import { checkDockerHost, type EngineMap, mergeEngines, parseEnginesObject } from './engines.ts';
import { CONFIG_SCHEMA, FIELDS, fieldOf } from './fields.ts';
import { type HostEnv, readHostEnv } from './host.ts';
import { checkListEntries } from './lists.ts';
import { ConfigError, expectation } from './meta.ts';
import { type LayerValues, type ParsedArgs, parseArgs, parseLayerValue } from './parse.ts';
import type { Config, ConfigKey } from './schema.ts';
import { resolveToolsets } from './toolsets.ts';

function readEnvLayer(env: Record<string, string | undefined>): LayerValues {
  const out: LayerValues = {};
  for (const [key, schema] of FIELDS) {
    for (const name of schema.env) {
      const raw = env[name];
      // An empty value counts as unset, for every kind (a list too: `MCP_DOCKER_TOOLSETS=` is the default).
      if (raw === undefined || raw === '') continue;
      out[key] = { value: parseLayerValue(key, raw, `env ${name}`), layer: 'env', source: name };
      break;
    }
  }
  return out;
}

function readFileLayer(path: string): LayerValues {
  let doc: unknown;
  try {
    doc = JSON.parse(nodeFs().readFileSync(path, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message;
    throw new ConfigError(`config file '${path}': ${why}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new ConfigError(`config file '${path}': expected a JSON object of settings`);
  const out: LayerValues = {};
  for (const [key, value] of Object.entries(doc)) {
    if (!(key in CONFIG_SCHEMA.properties) || key === 'config') {
      const why = key === 'config' ? ' (a config file cannot name another)' : '';
      const known = FIELDS.map(([k]) => k).filter((k) => k !== 'config');
      throw new ConfigError(
        `config file '${path}': unknown setting '${key}'${why}. Known: ${known.join(', ')}`,
      );
    }
    // Lists and numbers may be written as strings in a file too.
    const v =
      key === 'engines' && typeof value !== 'string'
        ? parseEnginesObject(value, `config file '${path}': engines`, false)
        : typeof value === 'string'
          ? parseLayerValue(key as ConfigKey, value, `config file key '${key}'`)
          : value;
    out[key] = { value: v, layer: 'file', source: `${path}: ${key}` };
  }
  return out;
}

/** Where each set value came from (`flag --port`, `env MCP_PORT`, `file c.json: port`), for doctor and errors. */
export type Sources = Record<string, string>;

/** Merges the layers and validates once; errors name the key and the layer it came from. */
/** `host:port` or `[v6]:port` with no scheme, which the docker CLI dials as tcp://. */
const BARE_HOST_PORT = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\]):\d+$/i;

export function resolveConfig(layers: { flags: LayerValues; env: LayerValues; file?: LayerValues }): {
  config: Config;
  sources: Sources;
} {
  const merged: Record<string, unknown> = {};
  const sources: Sources = {};
  for (const [key, schema] of FIELDS) {
    if (key === 'engines') continue;
    const hit = layers.flags[key] ?? layers.env[key] ?? layers.file?.[key];
    if (hit) {
      merged[key] = hit.value;
      sources[key] = `${hit.layer} ${hit.source}`;
    } else if ('default' in schema) merged[key] = structuredClone(schema.default);
  }
  const engineLayer = (l?: LayerValues) => {
    const hit = l?.engines;
    return hit && { value: hit.value as EngineMap, source: `${hit.layer} ${hit.source}` };
  };
  const configured = mergeEngines({
    flags: engineLayer(layers.flags),
    env: engineLayer(layers.env),
    file: engineLayer(layers.file),
  });
  if (configured) {
    merged.engines = configured;
    sources.engines =
      (engineLayer(layers.flags) ?? engineLayer(layers.env) ?? engineLayer(layers.file))?.source ?? '';
  }
  // Validated once per start, and only what a layer set, field by field: defaults are valid by
  // construction (test/unit/config.test.ts holds them to the schema), so a server started with none
  // checks nothing. From source the check is TypeBox's Value.Check; the binary has each field's
  // check built in (checks.ts), so setting an option loads no validator.
  for (const key of Object.keys(sources) as ConfigKey[]) {
    const field = fieldOf(key);
    if (fieldCheck(key, field)(merged[key])) continue;
    const allowed = (field as { anyOf?: { const: string }[] }).anyOf?.map((s) => s.const);
    const why = allowed ? `must be one of ${allowed.join(', ')}` : expectation(field);
    throw new ConfigError(
      `setting '${key}' (from ${sources[key]}): ${why}, got ${JSON.stringify(merged[key])}`,
    );
  }
  const config = merged as Config;
  // The docker CLI reads a bare HOST:PORT (`DOCKER_HOST=localhost:2375`) as tcp://; so do we.
  if (config.dockerHost && BARE_HOST_PORT.test(config.dockerHost))
    config.dockerHost = `tcp://${config.dockerHost}`;
  checkListEntries(config, sources);
  try {
    resolveToolsets(config.toolsets);
  } catch (e) {
    throw new ConfigError(
      `setting 'toolsets' (from ${sources.toolsets ?? 'default'}): ${(e as Error).message}`,
    );
  }
  return { config, sources };
}

export interface LoadedConfig {
  config: Config;
  sources: Sources;
  host: HostEnv;
  args: ParsedArgs;
}

/** The whole load: argv + the process env + the optional config file it names. */
export function loadConfig(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  o: { engine?: boolean } = {},
): LoadedConfig {
  const args = parseArgs(argv);
  const envLayer = readEnvLayer(env);
  const file = (args.values.config?.value ?? envLayer.config?.value) as string | undefined;
  const { config, sources } = resolveConfig({
    flags: args.values,
    env: envLayer,
    file: file ? readFileLayer(file) : undefined,
  });
  // Only the default engine uses it (with configured engines doctor reports it as ignored); and a
  // DOCKER_HOST set for other tools does not keep --help, --version or a command that reaches no
  // engine (`o.engine: false`: hash-token, config) from answering.
  if (config.dockerHost && !config.engines && !args.help && !args.version && o.engine !== false)
    checkDockerHost(config.dockerHost, `setting 'dockerHost' (from ${sources.dockerHost})`);
  return { config, sources, host: readHostEnv(env), args };
}
