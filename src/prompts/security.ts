/** security_audit: risky settings of one container, or of every running one (up to 20). */
import { hostPath } from '../core/host-details.ts';
import { isSecretName } from '../core/redact.ts';
import { definePrompt } from './define.ts';
import {
  header,
  type Info,
  limitsLine,
  mountsLine,
  portsLine,
  privilegesLine,
  restartPolicy,
  splitList,
  targets,
} from './facts.ts';

/** Host paths whose bind mount gives a container power over the host. */
const SENSITIVE =
  /^\/$|^\/(etc|proc|sys|boot|dev|root|home|usr|lib|bin|sbin|var\/lib\/docker|var\/run|run)(\/|$)|docker\.sock$|containerd\.sock$/;

/** Settings worth a look, found by simple rules; the model weighs them. */
export function notable(info: Info, remote = false): string[] {
  const hc = info.HostConfig;
  const out: string[] = [];
  if (!info.Config.User || /^(0|root)(:|$)/.test(info.Config.User)) out.push('runs as root');
  if (hc.Privileged) out.push('privileged: full access to host devices and kernel features');
  if (hc.CapAdd?.length) out.push(`added capabilities ${hc.CapAdd.join(', ')}`);
  if (!hc.CapDrop?.length) out.push('no capabilities dropped');
  for (const o of hc.SecurityOpt ?? []) if (/unconfined/.test(o)) out.push(`security_opt ${o}`);
  if (!(hc.SecurityOpt ?? []).some((o: string) => o.startsWith('no-new-privileges')))
    out.push('no-new-privileges not set');
  for (const ns of ['PidMode', 'IpcMode', 'NetworkMode', 'UTSMode', 'UsernsMode'] as const)
    if (hc[ns] === 'host') out.push(`host ${ns.replace('Mode', '').toLowerCase()} namespace`);
  for (const m of info.Mounts ?? [])
    if (m.Type === 'bind' && SENSITIVE.test(m.Source))
      out.push(
        `sensitive host path ${remote ? hostPath(m.Source) : m.Source} mounted ${m.RW ? 'read-write' : 'read-only'}`,
      );
  for (const [port, binds] of Object.entries(info.NetworkSettings?.Ports ?? {}))
    for (const b of binds ?? [])
      if (!b.HostIp || b.HostIp === '0.0.0.0' || b.HostIp === '::')
        out.push(`port ${port} published on all interfaces (${b.HostPort})`);
  if (!hc.ReadonlyRootfs) out.push('writable root filesystem');
  if (!hc.Memory) out.push('no memory limit');
  if (!hc.PidsLimit || hc.PidsLimit <= 0) out.push('no pids limit');
  const image = info.Config.Image;
  if (!image.includes('@') && (!/:[^/]+$/.test(image) || image.endsWith(':latest')))
    out.push(`image ${image} not pinned (latest or no tag)`);
  const secrets = (info.Config.Env ?? []).map((e) => e.split('=')[0] ?? '').filter(isSecretName);
  if (secrets.length) out.push(`secrets in plain environment variables: ${[...new Set(secrets)].join(', ')}`);
  return [...new Set(out)];
}

function block(info: Info, remote: boolean): string {
  return [
    `## ${header(info)}`,
    `State: ${info.State.Status}, restart policy ${restartPolicy(info)}`,
    `Privileges: ${privilegesLine(info)}`,
    `Mounts: ${mountsLine(info, remote)}`,
    `Ports: ${portsLine(info)}`,
    `Limits: ${limitsLine(info)}`,
    `Notable: ${notable(info, remote).join('; ') || 'nothing'}`,
  ].join('\n');
}

export const securityAudit = definePrompt({
  name: 'security_audit',
  title: 'Security audit',
  description:
    'Audit a container (or every running one, up to 20) for risky privileges, mounts and exposure.',
  arguments: [
    { name: 'container_id', description: 'Name or ID (default: all running)', complete: 'container' },
  ],
  async build({ container_id }, ctx) {
    const { infos, total } = await targets(splitList(container_id), ctx);
    const scope =
      container_id !== undefined
        ? `the Docker container ${infos[0] ? header(infos[0]) : container_id}`
        : `${infos.length} running Docker container(s)${total > infos.length ? ` (the first ${infos.length} of ${total} by name)` : ''}`;
    return [
      `Audit the security of ${scope}.`,
      'Environment values are not shown; variables whose names look like secrets are listed by name.',
      '',
      ...infos
        .map((i) => block(i, ctx.remote ?? false))
        .join('\n\n')
        .split('\n'),
      '',
      'Report findings by severity (critical, high, medium, low). For each: the container, the risk in one ' +
        'sentence (what an attacker inside the container could do), and the concrete fix (docker run flag ' +
        'or compose key). Treat the "Notable" lists as leads to verify, not conclusions; say what looks ' +
        'fine too.',
    ].join('\n');
  },
});
