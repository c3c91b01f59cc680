/**
 * Node builtins loaded where they are first used, not when the module that names them loads. In the
 * compiled binary a top-level import loads the builtin with its chunk: a session on DOCKER_HOST uses
 * none of fs, path or os, and loading them anyway raised its peak RSS by ~0.5 MiB (bench/changes.md).
 */
export const nodeFs = (): typeof import('node:fs') => require('node:fs');
export const nodePath = (): typeof import('node:path') => require('node:path');
export const nodeOs = (): typeof import('node:os') => require('node:os');
