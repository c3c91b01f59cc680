import pkg from '../package.json' with { type: 'json' };

declare const MCP_DOCKER_VERSION: string | undefined;

/** Embedded at compile time by build.ts; read from package.json when run from source. */
export const VERSION: string = typeof MCP_DOCKER_VERSION === 'string' ? MCP_DOCKER_VERSION : pkg.version;
