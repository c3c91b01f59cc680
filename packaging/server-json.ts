/**
 * The MCP Registry entry (`server.json`, `bun build.ts --all` or `--registry`): one server with three ways
 * to get it, the npm launcher, a `.mcpb` per desktop platform (with its real sha256) and the OCI image.
 *
 * No npm package publishes the registry's JSON schema, and nothing fetched from the web may be committed
 * here, so ServerJson below is OUR TypeBox transcription of the fields the registry documents for the
 * 2025-12-11 schema (modelcontextprotocol.io/registry: "server.json format", "package types", "official
 * registry requirements"), limited to the fields we write, with the documented limits: name
 * `reverse-dns/name`, description at most 100 characters, an exact version, npm with a version, mcpb
 * with an https URL containing "mcp" and a 64-hex `fileSha256`, oci with `registry/namespace/repo:tag`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Type as T } from 'typebox';
import { Value } from 'typebox/value';
import { sha256Of } from './archive.ts';
import { IMAGE_REPOSITORY } from './image.ts';
import { bundleName, MCPB_TARGETS } from './mcpb.ts';
import { MCP_NAME, NPM_LAUNCHER } from './npm.ts';

export const SERVER_SCHEMA_URL =
  'https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json';
const RELEASES = 'https://github.com/mcp-docker/mcp-docker/releases/download';

const Input = {
  description: T.Optional(T.String()),
  isRequired: T.Optional(T.Boolean()),
  format: T.Optional(
    T.Union([T.Literal('string'), T.Literal('number'), T.Literal('boolean'), T.Literal('filepath')]),
  ),
  default: T.Optional(T.String()),
  isSecret: T.Optional(T.Boolean()),
  value: T.Optional(T.String()),
  valueHint: T.Optional(T.String()),
  choices: T.Optional(T.Array(T.String())),
};
const EnvironmentVariable = T.Object(
  { name: T.String({ minLength: 1 }), ...Input },
  { additionalProperties: false },
);
const NamedArgument = T.Object(
  { type: T.Literal('named'), name: T.String({ pattern: '^-' }), ...Input },
  { additionalProperties: false },
);
const Stdio = T.Object({ type: T.Literal('stdio') }, { additionalProperties: false });
const common = {
  transport: Stdio,
  runtimeHint: T.Optional(T.String()),
  runtimeArguments: T.Optional(T.Array(NamedArgument)),
  environmentVariables: T.Optional(T.Array(EnvironmentVariable)),
};
const Version = T.String({ minLength: 1, maxLength: 255, pattern: '^\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?$' });
const NpmPackage = T.Object(
  {
    registryType: T.Literal('npm'),
    registryBaseUrl: T.Optional(T.Literal('https://registry.npmjs.org')),
    identifier: T.String({ minLength: 1 }),
    version: Version,
    ...common,
  },
  { additionalProperties: false },
);
const McpbPackage = T.Object(
  {
    registryType: T.Literal('mcpb'),
    identifier: T.String({ pattern: '^https://.*mcp' }),
    fileSha256: T.String({ pattern: '^[a-f0-9]{64}$' }),
    ...common,
  },
  { additionalProperties: false },
);
const OciPackage = T.Object(
  {
    registryType: T.Literal('oci'),
    identifier: T.String({
      pattern: '^[a-z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[\\w.-]+|@sha256:[a-f0-9]{64})$',
    }),
    ...common,
  },
  { additionalProperties: false },
);
export const ServerJson = T.Object(
  {
    $schema: T.Literal(SERVER_SCHEMA_URL),
    name: T.String({ minLength: 3, maxLength: 200, pattern: '^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$' }),
    title: T.Optional(T.String({ minLength: 1, maxLength: 100 })),
    description: T.String({ minLength: 1, maxLength: 100 }),
    version: Version,
    websiteUrl: T.Optional(T.String({ pattern: '^https://' })),
    repository: T.Optional(
      T.Object(
        { url: T.String({ pattern: '^https://' }), source: T.String({ minLength: 1 }) },
        { additionalProperties: false },
      ),
    ),
    packages: T.Array(T.Union([NpmPackage, McpbPackage, OciPackage]), { minItems: 1 }),
  },
  { additionalProperties: false },
);

/** The first problem with a server.json value, or undefined when it matches ServerJson. */
export function serverJsonProblem(value: unknown): string | undefined {
  if (Value.Check(ServerJson, value)) return undefined;
  const e = [...Value.Errors(ServerJson, value)][0];
  return e ? `${e.instancePath || '/'}: ${e.message}` : 'does not match';
}

const ENV: T.Static<typeof EnvironmentVariable>[] = [
  {
    name: 'DOCKER_HOST',
    description: 'Engine endpoint (unix://, tcp://, npipe://); unset = found like the docker CLI does',
    isRequired: false,
    format: 'string',
  },
  {
    name: 'MCP_DOCKER_READ_ONLY',
    description: 'Only tools that change nothing',
    isRequired: false,
    format: 'boolean',
    default: 'false',
  },
  {
    name: 'SAFETY_ALLOW_DESTRUCTIVE_OPERATIONS',
    description: 'Allow tools that delete (remove, prune)',
    isRequired: false,
    format: 'boolean',
    default: 'false',
  },
];

/** server.json for `version`, with the sha256 of each bundle found in releaseDir (all of them required). */
export function serverJson(releaseDir: string, version: string): T.Static<typeof ServerJson> {
  const bundles = MCPB_TARGETS.map((t) => {
    const name = bundleName(t, version);
    const file = join(releaseDir, name);
    if (!existsSync(file)) throw new Error(`server.json needs ${name}: build the bundles first`);
    return {
      registryType: 'mcpb' as const,
      identifier: `${RELEASES}/v${version}/${name}`,
      fileSha256: sha256Of(file),
      transport: { type: 'stdio' as const },
      environmentVariables: ENV,
    };
  });
  return {
    $schema: SERVER_SCHEMA_URL,
    name: MCP_NAME,
    title: 'Docker',
    description: 'Manage Docker engines safely: containers, images, networks, volumes, compact results',
    version,
    websiteUrl: 'https://github.com/mcp-docker/mcp-docker',
    repository: { url: 'https://github.com/mcp-docker/mcp-docker', source: 'github' },
    packages: [
      {
        registryType: 'npm',
        registryBaseUrl: 'https://registry.npmjs.org',
        identifier: NPM_LAUNCHER,
        version,
        runtimeHint: 'npx',
        transport: { type: 'stdio' },
        environmentVariables: ENV,
      },
      ...bundles,
      {
        registryType: 'oci',
        identifier: `${IMAGE_REPOSITORY}:${version}`,
        runtimeHint: 'docker',
        transport: { type: 'stdio' },
        runtimeArguments: [
          {
            type: 'named',
            name: '-v',
            value: '/var/run/docker.sock:/var/run/docker.sock',
            description: "The engine's socket: whoever holds it controls the host (see the README)",
            isRequired: true,
          },
          {
            type: 'named',
            name: '--group-add',
            valueHint: 'socket_gid',
            description:
              "The socket's group id (stat -c %g /var/run/docker.sock), so the non-root user can reach it",
            isRequired: true,
          },
        ],
        environmentVariables: ENV.slice(1),
      },
    ],
  };
}

/** Writes and checks <releaseDir>/server.json; returns its path. */
export async function writeServerJson(releaseDir: string, version: string): Promise<string> {
  const value = serverJson(releaseDir, version);
  const problem = serverJsonProblem(value);
  if (problem) throw new Error(`server.json does not match the registry's documented fields: ${problem}`);
  const out = join(releaseDir, 'server.json');
  await Bun.write(out, `${JSON.stringify(value, null, 2)}\n`);
  return out;
}
