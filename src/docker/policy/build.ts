/**
 * What a build makes the engine fetch itself. The classic builder fetches a remote context (`remote`)
 * and every `ADD <url>` in the engine's own process, in the host's network namespace, so a build could
 * read what only the host reaches (loopback services, cloud metadata, the LAN) into an image. A build
 * passes only with a context this server packed, whose Dockerfile (the bytes sent) adds nothing remote.
 * SAFETY_ALLOW_PRIVILEGED_CONTAINERS lifts this as it lifts `networkmode: host`: the same reach.
 */
import { dockerfileName, type RemoteSource, remoteAddSources, sentDockerfile } from '../dockerfile.ts';
import type { EngineCall } from '../request.ts';
import { type RuleContext, refuseEscape } from './rules.ts';

const ADD_HINT =
  "Put the file in the build context and COPY it, or download it in a RUN step (which runs in the build container's network, not the host's).";
const SHOWN = 3;
const WHY: Record<RemoteSource['why'], string> = {
  url: 'a URL',
  variable: 'a variable, which a build arg could make a URL',
  unclear:
    'a Unicode space, or a character whose UTF-8 bytes the builder takes for a space, which it may split where this check does not; write it in ASCII',
  directive:
    'an escape directive after one Docker 20.10 does not know, which newer builders apply and 20.10 does not; put it first',
};

const clip = (s: string) => (s.length > 120 ? `${s.slice(0, 117)}...` : s);

export function checkBuildSources(call: EngineCall, ctx: RuleContext): void {
  const remote = call.query.remote;
  if (remote !== undefined && remote !== '') {
    refuseEscape(
      ctx,
      `remote: a build context the engine fetches itself ('${clip(String(remote))}') is refused: the engine fetches it from the host's network`,
      { fix: 'Build from a context directory on the server host.' },
    );
    return;
  }
  const sent = sentDockerfile(call.file);
  if (!sent) {
    refuseEscape(
      ctx,
      'a build context this server did not pack is refused: its Dockerfile cannot be checked',
    );
    return;
  }
  const asked = call.query.dockerfile;
  const name = dockerfileName(typeof asked === 'string' && asked !== '' ? asked : 'Dockerfile');
  if (name !== sent.name) {
    refuseEscape(
      ctx,
      `dockerfile: '${String(asked)}' is refused: it is not the Dockerfile checked in the context ('${sent.name}')`,
    );
    return;
  }
  const found = remoteAddSources(sent.text);
  if (found.length === 0) return;
  const listed = found
    .slice(0, SHOWN)
    .map(
      (f) =>
        `line ${f.line}: ${f.why === 'directive' ? clip(f.source) : `ADD '${clip(f.source)}'`} (${WHY[f.why]})`,
    )
    .join('; ');
  const more = found.length > SHOWN ? ` and ${found.length - SHOWN} more` : '';
  refuseEscape(
    ctx,
    `${sent.name}: ${listed}${more}: ADD from a remote source is refused: the engine fetches it itself, from the host's network (loopback services, cloud metadata, the LAN)`,
    { fix: ADD_HINT },
  );
}
