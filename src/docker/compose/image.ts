/** A service's image for `up`: its pull policy, pulled with the registry's credentials when needed, and its ID. */
import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { reword, ToolError } from '../../core/errors.ts';
import { readProgressStream } from '../json-stream.ts';
import type { Obj } from './normalise.ts';
import type { Step, UpOptions } from './project.ts';

/** A service's pull_policy (Compose spells `if_not_present` and `build` too) over the call's. */
export function pullPolicy(svc: Obj, call: UpOptions['pull']): 'missing' | 'always' | 'never' {
  const own = svc.pull_policy === 'if_not_present' ? 'missing' : svc.pull_policy;
  return own === 'always' || own === 'never' || own === 'missing' ? own : (call ?? 'missing');
}

export interface ImageCall {
  signal: AbortSignal;
  step: (s: Step) => void;
  service: string;
  auth?: UpOptions['auth'];
  pullFailure?: UpOptions['pullFailure'];
  progress: (message: string) => void;
  doing: (what: string) => void;
}

export const imageId = (docker: Dockerode, image: string, signal: AbortSignal) =>
  (
    docker.getImage(image).inspect({ abortSignal: signal } as never) as unknown as Promise<{ Id: string }>
  ).then(
    (i) => i.Id,
    () => undefined,
  );

/** The image on the engine (pulled when the policy says so, with the registry's credentials); its ID. */
export async function ensureImage(
  docker: Dockerode,
  image: string,
  pull: 'missing' | 'always' | 'never',
  c: ImageCall,
): Promise<string | undefined> {
  const { signal, service } = c;
  const have = await imageId(docker, image, signal);
  if (have && pull !== 'always') return have;
  if (!have && pull === 'never')
    throw new ToolError(
      'not_found',
      `service "${service}": image ${image} is not on the engine and pull is never`,
      { hint: 'Pull it (docker_pull_image) or set pull: missing.' },
    );
  // Without a tag the engine would pull every tag of the repository: name latest, as Compose does.
  const named = image.includes('@') || /:[^/]+$/.test(image) ? image : `${image}:latest`;
  let last = '';
  c.doing(`pulling image ${named}`);
  try {
    const credentials = await c.auth?.(named, signal);
    const options = { fromImage: named, abortSignal: signal };
    const stream = credentials
      ? await docker.createImage(credentials, options)
      : await docker.createImage(options);
    await readProgressStream(
      stream as Readable,
      (m) => {
        if (m.status && m.status !== last) {
          last = m.status;
          c.progress(`${service}: ${m.status}`);
        }
      },
      signal,
    );
  } catch (e) {
    if (signal.aborted) throw e;
    if (e instanceof ToolError) throw e;
    const mapped = c.pullFailure?.(e, named);
    if (mapped instanceof ToolError) throw reword(mapped, (m) => `service "${service}": ${m}`);
    // The engine's words relay the registry's: a quote, screened by the pipeline.
    throw new ToolError('not_found', `service "${service}": pulling ${named} failed`, {
      quote: { by: 'the engine', text: String((e as Error)?.message ?? e) },
      hint: 'Check the image name and the registry login (docker login, or docker_pull_image with auth), or set pull: never.',
      retryable: true,
    });
  }
  c.step({ service, object: `image ${image}`, action: 'pulled' });
  return imageId(docker, image, signal);
}
