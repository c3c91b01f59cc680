/**
 * Building a Compose service's image for `up`, through the same context path as docker_build_image:
 * the context directory passes the host-path rule, `.dockerignore` is honoured, every entry is
 * checked before anything is sent, and the engine's guard sees the build request (and judges the
 * Dockerfile the stream carries: no ADD from a remote source).
 */
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type { EngineFacts } from '../../core/engine.ts';
import { ToolError } from '../../core/errors.ts';
import { openContext, openContextDir } from '../../docker/build-context.ts';
import type { ServiceBuild } from '../../docker/compose/project.ts';
import { EngineStreamError, readProgressStream } from '../../docker/json-stream.ts';

/** The builder's own lines between a step's output: layer ids, its clean-up. */
const BUILDER_LINE = /^(?:---> |Removing intermediate container )/;

type Engine = { docker: Dockerode; resolveFacts(signal?: AbortSignal): Promise<EngineFacts> };

export function builder(engine: Engine, signal: AbortSignal): ServiceBuild {
  return async (service, image, build, progress) => {
    const bad = (why: string, hint: string) =>
      new ToolError('invalid_argument', `service "${service}": build: ${why}`, { hint });
    // Opened once and read through its descriptor: a swap of the directory after its check changes nothing.
    const dir = await openContextDir(engine, String(build.context), 'build.context', (real) =>
      bad(`context '${real}' is not a directory`, 'Point build.context at the directory to build.'),
    );
    let failure = '';
    // The failing step's last output lines: with the engine's reason, the build's words, quoted.
    let output: string[] = [];
    try {
      const given = String(build.dockerfile ?? 'Dockerfile');
      // Checked whole before anything is sent; a failure while packing aborts the request and is the result.
      const {
        stream: context,
        sending,
        failure: packFailure,
        dockerfileName: dockerfile,
      } = await openContext(dir.root, signal, dir.path, given, (why, hint) =>
        bad(`dockerfile '${given}' ${why}`, hint),
      );
      const args = build.args as Record<string, string | null> | undefined;
      const options: Record<string, unknown> = {
        dockerfile,
        t: image,
        rm: true,
        forcerm: true,
        abortSignal: sending,
        ...(args && {
          buildargs: Object.fromEntries(
            Object.entries(args).filter((e): e is [string, string] => e[1] !== null),
          ),
        }),
        ...(build.target !== undefined && { target: String(build.target) }),
        ...(build.labels !== undefined && { labels: build.labels }),
        ...(build.no_cache === true && { nocache: true }),
      };
      try {
        const stream = await engine.docker.buildImage(context, options as Dockerode.ImageBuildOptions);
        await readProgressStream(
          stream as Readable,
          (m) => {
            for (const raw of (m.stream ?? '').split('\n')) {
              const line = raw.trim();
              if (/^Step \d+\/\d+ :/.test(line)) {
                progress(`${service}: ${line}`);
                output = [];
              } else if (line && !BUILDER_LINE.test(line)) output = [...output.slice(-7), line.slice(0, 400)];
            }
          },
          sending,
        );
      } catch (e) {
        context.destroy();
        const packed = packFailure();
        if (packed) throw packed;
        if (e instanceof EngineStreamError) failure = e.message;
        else throw e;
      }
    } finally {
      await dir.close();
    }
    if (failure)
      throw new ToolError('invalid_argument', `service "${service}": build: the build failed`, {
        quote: { by: 'the build', text: [failure, ...output.filter((l) => l !== failure)].join('\n') },
        hint: 'Fix the Dockerfile, or build with docker_build_image to read its log.',
      });
  };
}
