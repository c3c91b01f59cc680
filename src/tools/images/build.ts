/**
 * Building an image from a context directory on the server's host with the classic builder: the
 * directory goes to the engine as a tar stream (`.dockerignore` honoured), progress is "Step n/m", and
 * the engine applies the tags only when the build succeeds, so a failed or cancelled build tags nothing.
 */
import { isAbsolute } from 'node:path';
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import Type from 'typebox';
import { ToolError } from '../../core/errors.ts';
import { defineTool } from '../../core/tool.ts';
import { openContext, openContextDir } from '../../docker/build-context.ts';
import { EngineStreamError, readProgressStream, refusal } from '../../docker/json-stream.ts';
import { IMAGE_REF_PATTERN, shortId } from '../../docker/names.ts';
import { inspectImage } from '../../docker/resolve.ts';
import { MAX_ARG, MAX_VALUE, StringMap } from '../params.ts';
import { buildRegistryConfig, parseReference } from './auth.ts';
import { BuildLog, registryFailure } from './progress.ts';
import { LONG_TIMEOUT_MS } from './pull.ts';

const LOG_TAIL = 20;

const NameTag = Type.String({
  minLength: 1,
  maxLength: 256,
  pattern: IMAGE_REF_PATTERN,
});

const bad = (field: string, why: string, hint: string) =>
  new ToolError('invalid_argument', `invalid argument '${field}': ${why}`, { hint });

/** Registries of the FROM images (build args substituted), for their credentials; stages and scratch skipped. */
export function baseRegistries(dockerfile: string, buildArgs: Record<string, string> = {}): string[] {
  const stages = new Set<string>(['scratch']);
  const out: string[] = [];
  for (const m of dockerfile.matchAll(/^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/gim)) {
    const image = (m[1] ?? '').replace(/\$\{?(\w+)\}?/g, (whole, name: string) => buildArgs[name] ?? whole);
    if (!image.includes('$') && !stages.has(image.toLowerCase())) out.push(parseReference(image).registry);
    if (m[2]) stages.add(m[2].toLowerCase());
  }
  return [...new Set(out)];
}

export const buildImage = defineTool({
  name: 'docker_build_image',
  title: 'Build image',
  description: 'Build an image from a context dir on the server host.',
  safety: 'moderate',
  idempotent: false,
  // FROM and pull: true reach a registry.
  openWorld: true,
  timeoutMs: LONG_TIMEOUT_MS,
  hostPaths: ['path'],
  keep: 'tail',
  // RUN steps print whatever their commands print.
  untrusted: { log: 'output of the build' },
  input: Type.Object(
    {
      path: Type.String({ minLength: 1, maxLength: 4096, description: 'Absolute' }),
      dockerfile: Type.Optional(
        Type.String({ minLength: 1, maxLength: 1024, description: 'Path in context' }),
      ),
      tag: Type.Optional({ ...NameTag, description: 'name:tag' }),
      tags: Type.Optional(Type.Array(NameTag, { maxItems: 32 })),
      // Values like environment values (a build arg becomes one); names are never empty.
      build_args: StringMap(undefined, MAX_ARG, 1),
      target: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Stage to build' })),
      labels: StringMap(undefined, MAX_VALUE, 1),
      no_cache: Type.Optional(Type.Boolean()),
      pull: Type.Optional(Type.Boolean({ description: 'Pull base images' })),
      platform: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: 64,
          pattern: '^[a-z0-9_./-]+$',
          description: 'e.g. linux/arm64',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  output: Type.Object({
    id: Type.String(),
    tags: Type.Array(Type.String()),
    retagged: Type.Optional(
      Type.Array(Type.Object({ tag: Type.String(), was: Type.String({ description: 'Image it was on' }) })),
    ),
    log: Type.Array(Type.String(), { description: 'Last lines of the build' }),
  }),
  // Build args carry tokens for private package registries (NPM_TOKEN and the like).
  secretArgs: ['build_args'],
  handler: async (args, { engine, signal, progress, dockerConfigDir }) => {
    const { docker } = engine;
    if (!isAbsolute(args.path))
      throw bad('path', `'${args.path}' is not absolute`, 'Give the absolute path of the build context.');
    // Opened once and read through its descriptor: a swap of the directory after its check changes nothing.
    const dir = await openContextDir(engine, args.path, 'path', (real) =>
      bad('path', `'${real}' is not a directory on the server's host`, 'Give an existing directory.'),
    );
    try {
      const dockerfile = args.dockerfile ?? 'Dockerfile';
      const tags = [...new Set([...(args.tag ? [args.tag] : []), ...(args.tags ?? [])])];
      // Checked whole before anything is sent; a failure while packing aborts the request and is the
      // result. The Dockerfile is read once: the engine guard judges the bytes the stream carries.
      const {
        stream: context,
        sending,
        failure: packFailure,
        dockerfile: text,
        dockerfileName,
      } = await openContext(dir.root, signal, dir.path, dockerfile);
      // What each tag names now (the build moves a tag on another image, which the result says), and
      // the registries' credentials for the FROM images.
      const [before, registryconfig] = await Promise.all([
        Promise.all(tags.map((t) => taggedImage(docker, t, signal))),
        buildRegistryConfig(baseRegistries(text, args.build_args), signal, dockerConfigDir),
      ]).catch((e: unknown) => {
        context.destroy();
        throw e;
      });

      // Only set keys: the query string would send an undefined as an empty value.
      const options: Record<string, unknown> = {
        dockerfile: dockerfileName,
        rm: true,
        forcerm: true,
        abortSignal: sending,
        ...(tags.length > 0 && { t: tags }),
        ...(args.build_args && { buildargs: args.build_args }),
        ...(args.target && { target: args.target }),
        ...(args.labels && { labels: args.labels }),
        ...(args.no_cache && { nocache: true }),
        ...(args.pull && { pull: true }),
        ...(args.platform && { platform: args.platform }),
        ...(Object.keys(registryconfig).length > 0 && { registryconfig }),
      };
      const log = new BuildLog(progress, LOG_TAIL);
      try {
        const stream = await docker.buildImage(context, options as Dockerode.ImageBuildOptions);
        await readProgressStream(stream as Readable, (m) => log.take(m), sending);
        log.flush();
      } catch (e) {
        log.flush();
        context.destroy();
        throw packFailure() ?? buildFailure(e, log);
      }
      if (!log.imageId)
        throw new ToolError('internal', 'the build ended without an image id', {
          hint: `Check the log: ${log.tail.slice(-3).join(' | ')}`,
        });
      const id = shortId(log.imageId);
      const retagged = tags.flatMap((tag, i) => {
        const was = before[i];
        return was && shortId(was) !== id ? [{ tag, was: shortId(was) }] : [];
      });
      return { id, tags, ...(retagged.length > 0 && { retagged }), log: log.tail };
    } finally {
      await dir.close();
    }
  },
});

/** The ID of the image tagged `tag` now (not one whose ID merely starts so), or undefined. */
async function taggedImage(docker: Dockerode, tag: string, signal: AbortSignal): Promise<string | undefined> {
  const image = await inspectImage(docker, tag, signal).catch((e: unknown) => {
    if (e instanceof ToolError && e.kind === 'not_found') return undefined;
    throw e;
  });
  const named = tag.replace(/^docker\.io\/(?:library\/)?/, '');
  const full = /:[^/]*$/.test(named) ? named : `${named}:latest`;
  return image?.RepoTags?.includes(full) ? image.Id : undefined;
}

/** A failed build names the step and the engine's reason, with the step's last output lines. */
function buildFailure(e: unknown, log: BuildLog): unknown {
  const refused = refusal(e);
  if (!(e instanceof EngineStreamError) && !refused) return e;
  const reason = e instanceof EngineStreamError ? e.message : (refused?.message ?? '');
  // A base image that cannot be pulled is a registry problem, not a Dockerfile one.
  if (
    /^FROM /i.test(log.step?.replace(/^Step \d+\/\d+: /, '') ?? '') ||
    /pull access denied|manifest unknown/i.test(reason)
  ) {
    const from = log.step ?? 'FROM';
    // The engine's message names the registry URL; the step may only show "FROM ${BASE}".
    const registry =
      /https?:\/\/([^/\s"]+)/.exec(reason)?.[1] ??
      parseReference(from.replace(/^.*FROM\s+(?:--\S+\s+)*/i, '').split(/\s/)[0] ?? '').registry;
    // The step by its number: its text is the Dockerfile's words, which the quote carries screened.
    const at = log.stepNumber ? `build at ${log.stepNumber} (FROM)` : 'build (FROM)';
    const mapped = registryFailure(new EngineStreamError(reason), at, registry, {
      authArgument: false,
    });
    if (mapped instanceof ToolError && mapped.kind !== 'internal') return mapped;
  }
  const output = log.lastOutput(8).filter((l) => l !== reason);
  const where = log.stepNumber ? `build failed at ${log.stepNumber}` : 'build failed';
  // The step's text (the Dockerfile's), the reason and the step's output are the Dockerfile's, the
  // engine's and the build container's words: quoted, screened.
  return new ToolError('invalid_argument', where, {
    quote: { by: 'the build', text: [...(log.step ? [log.step] : []), reason, ...output].join('\n') },
    hint: 'Fix that Dockerfile step (or the context it reads) and build again.',
  });
}
