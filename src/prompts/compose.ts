/**
 * generate_compose: a compose file that recreates running containers, with secret values replaced
 * by `${NAME}` placeholders, for the model to review and tidy.
 */
import type Dockerode from 'dockerode';
import type { ContentContext } from '../core/content.ts';
import { FLAG, fenceText, screenValues } from '../core/fence.ts';
import { hostPath } from '../core/host-details.ts';
import { isSecretName, MASK, redact, redactText } from '../core/redact.ts';
import { nameOf } from '../docker/names.ts';
import { definePrompt } from './define.ts';
import { type Info, restartPolicy, screened, splitList, targets, UNTRUSTED_NOTE } from './facts.ts';
import { toYaml, type YamlValue } from './yaml.ts';

type ImageConfig = Partial<
  Pick<Dockerode.ImageInspectInfo['Config'], 'Cmd' | 'Entrypoint' | 'Env' | 'Labels' | 'WorkingDir' | 'User'>
>;
type Obj = { [key: string]: YamlValue };

/** Compose interpolates `$` in every value: a literal one is written `$$`. */
const literal = (s: string) => s.replace(/\$/g, '$$$$');
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const ANONYMOUS = /^[0-9a-f]{64}$/;
const argv = (v: string | string[] | undefined) => (v === undefined || Array.isArray(v) ? v : [v]);

/** Collects placeholders across services: one variable per secret, prefixed by service on a clash. */
class Secrets {
  readonly vars = new Map<string, string>();

  /** `value` as written in the file: itself (escaped) unless it is, or holds, a secret. */
  value(service: string, key: string, value: string): string {
    const line = `${key}=${value}`;
    if (value === '' || (!isSecretName(key) && redactText(line) === line)) return literal(value);
    const base = key
      .toUpperCase()
      .replace(/[^A-Z0-9_]/g, '_')
      .replace(/^(\d)/, '_$1');
    let name = base;
    if (this.vars.has(name) && this.vars.get(name) !== value)
      name = `${service.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}_${base}`;
    this.vars.set(name, value);
    return `\${${name}}`;
  }
}

function ports(info: Info): string[] {
  return Object.entries(info.HostConfig.PortBindings ?? {}).flatMap(([port, binds]) => {
    const target = port.endsWith('/tcp') ? port.slice(0, -4) : port;
    const list = (binds ?? []) as { HostIp?: string; HostPort?: string }[];
    if (list.length === 0) return [target];
    return list.map((b) =>
      b.HostIp
        ? `${b.HostIp}:${b.HostPort ?? ''}:${target}`
        : b.HostPort
          ? `${b.HostPort}:${target}`
          : target,
    );
  });
}

function service(
  info: Info,
  image: ImageConfig | undefined,
  secrets: Secrets,
  top: { volumes: Obj; networks: Obj },
  filter: ContentContext['logFilter'],
  remote = false,
): Obj {
  const c = info.Config;
  const hc = info.HostConfig;
  const name = nameOf(info);
  const s: Obj = { image: literal(c.Image) };

  // Arguments are the image author's or the container creator's text: screened like env values.
  const screen = (v: string[] | undefined) => v?.map((a) => screened(a, filter));
  const entrypoint = screen(argv(c.Entrypoint));
  const cmd = screen(argv(c.Cmd));
  const entrypointChanged = !same(entrypoint, screen(argv(image?.Entrypoint)));
  if (entrypointChanged && entrypoint?.length) s.entrypoint = entrypoint.map(literal);
  // Overriding the entrypoint clears the image's command, so it must be written out then.
  if ((entrypointChanged || !same(cmd, screen(argv(image?.Cmd)))) && cmd?.length)
    s.command = cmd.map(literal);
  if (c.WorkingDir && c.WorkingDir !== image?.WorkingDir) s.working_dir = literal(c.WorkingDir);
  if (c.User && c.User !== image?.User) s.user = literal(c.User);

  const inherited = new Set(image?.Env ?? []);
  const env: Record<string, string> = {};
  for (const e of c.Env ?? []) {
    if (inherited.has(e)) continue;
    const i = e.indexOf('=');
    if (i > 0) env[e.slice(0, i)] = e.slice(i + 1);
  }
  const screenedEnv = screenValues(env, filter) as Record<string, string>;
  if (Object.keys(env).length)
    s.environment = Object.fromEntries(
      Object.keys(env).map((k) => [k, secrets.value(name, k, screenedEnv[k] ?? '')]),
    );

  const p = ports(info);
  if (p.length) s.ports = p;

  const volumes: string[] = [];
  const tmpfs: string[] = [];
  for (const m of info.Mounts ?? []) {
    const ro = m.RW ? '' : ':ro';
    if (m.Type === 'bind')
      volumes.push(literal(`${remote ? hostPath(m.Source) : m.Source}:${m.Destination}${ro}`));
    else if (m.Type === 'volume' && m.Name && !ANONYMOUS.test(m.Name)) {
      volumes.push(literal(`${m.Name}:${m.Destination}${ro}`));
      top.volumes[m.Name] = { external: true };
    } else if (m.Type === 'volume') volumes.push(literal(m.Destination));
    else if (m.Type === 'tmpfs') tmpfs.push(literal(m.Destination));
  }
  if (volumes.length) s.volumes = volumes;
  if (tmpfs.length) s.tmpfs = tmpfs;

  const mode = hc.NetworkMode || 'default';
  const custom = Object.keys(info.NetworkSettings?.Networks ?? {}).filter(
    (n) => !['bridge', 'host', 'none'].includes(n),
  );
  if (custom.length && !['host', 'none'].includes(mode) && !mode.startsWith('container:')) {
    s.networks = custom.map(literal);
    for (const n of custom) top.networks[n] = { external: true };
  } else s.network_mode = literal(mode === 'default' ? 'bridge' : mode);

  const restart = restartPolicy(info);
  if (restart !== 'no') s.restart = restart;

  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.Labels ?? {}))
    if (!k.startsWith('com.docker.compose.') && image?.Labels?.[k] !== v) labels[k] = v;
  const screenedLabels = screenValues(labels, filter) as Record<string, string>;
  if (Object.keys(labels).length)
    s.labels = Object.fromEntries(
      Object.keys(labels).map((k) => [k, secrets.value(name, k, screenedLabels[k] ?? '')]),
    );

  if (hc.Privileged) s.privileged = true;
  if (hc.CapAdd?.length) s.cap_add = hc.CapAdd;
  if (hc.CapDrop?.length) s.cap_drop = hc.CapDrop;
  if (hc.SecurityOpt?.length) s.security_opt = hc.SecurityOpt.map(literal);
  if (hc.ReadonlyRootfs) s.read_only = true;
  if (hc.Memory) s.mem_limit = hc.Memory;
  if (hc.NanoCpus) s.cpus = hc.NanoCpus / 1e9;
  if (hc.PidsLimit && hc.PidsLimit > 0) s.pids_limit = hc.PidsLimit;
  if (hc.ExtraHosts?.length) s.extra_hosts = hc.ExtraHosts.map(literal);
  if (hc.Dns?.length) s.dns = hc.Dns;
  if (c.Tty) s.tty = true;
  if (c.OpenStdin) s.stdin_open = true;
  return s;
}

/**
 * Every string redacted where it stands; unlike redact(), keys never mask their values (placeholders
 * stay). A list of strings (a command) as redact() masks one: the element after `--password` too.
 */
const redactStrings = (v: YamlValue): YamlValue =>
  typeof v === 'string'
    ? redactText(v)
    : Array.isArray(v)
      ? v.every((x) => typeof x === 'string')
        ? redact(v)
        : v.map(redactStrings)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactStrings(x)]))
        : v;

/**
 * The compose document for these containers. Strings are redacted before they are written (so a
 * secret hidden in a command or URL becomes ***), secret env and label values become placeholders,
 * and keys that name secrets are quoted so the final redaction pass leaves the placeholders (which
 * are not secrets) and the YAML intact.
 */
export async function composeFor(
  infos: Info[],
  ctx: ContentContext,
): Promise<{ yaml: string; vars: string[] }> {
  const images = new Map<string, ImageConfig | undefined>();
  for (const info of infos) {
    if (images.has(info.Image)) continue;
    try {
      const opts = { abortSignal: ctx.signal } as Dockerode.ImageInspectOptions;
      images.set(info.Image, (await ctx.engine.docker.getImage(info.Image).inspect(opts)).Config);
    } catch {
      images.set(info.Image, undefined); // image gone: every setting is written out
    }
  }
  const secrets = new Secrets();
  const top = { volumes: {} as Obj, networks: {} as Obj };
  const services: Obj = {};
  for (const info of infos)
    services[nameOf(info)] = service(info, images.get(info.Image), secrets, top, ctx.logFilter, ctx.remote);
  const doc: Obj = { services: redactStrings(services) as Obj };
  if (Object.keys(top.volumes).length) doc.volumes = top.volumes;
  if (Object.keys(top.networks).length) doc.networks = top.networks;
  return { yaml: toYaml(doc, { quoteKey: isSecretName }), vars: [...secrets.vars.keys()].sort() };
}

/**
 * What the file holds that is not the containers' own text, said before it: placeholders to set,
 * secrets masked where no placeholder fits (inside a command or URL: the final redaction pass reads
 * the file as text, so a value there is masked as in any text), and screening marks.
 */
function alterations(yaml: string, vars: string[]): string[] {
  const notes: string[] = [];
  if (vars.length)
    notes.push(
      `Secret values were replaced by placeholders; they must be set in the environment or a .env file: ${vars.join(', ')}.`,
    );
  if (yaml.includes(MASK) || redactText(yaml) !== yaml)
    notes.push(
      `Some values (in a command, URL or similar) held what reads as a secret and show ${MASK} instead: the file does not run them as the containers did until the real values, or \${VAR} placeholders, are put back.`,
    );
  if (yaml.includes(FLAG.trim()))
    notes.push(
      `Values that begin "${FLAG.trim()}" read like instructions to an assistant: the mark is not part of the value; remove it before using the file.`,
    );
  return notes.length ? notes : ['No secret values were found.'];
}

export const generateCompose = definePrompt({
  name: 'generate_compose',
  title: 'Generate a compose file',
  description: 'Write a docker-compose.yml that recreates running containers, secrets as placeholders.',
  arguments: [
    {
      name: 'container_ids',
      description: 'Comma-separated names or IDs (default: all running, up to 20)',
      complete: 'container_list',
    },
  ],
  async build({ container_ids }, ctx) {
    const { infos, total } = await targets(splitList(container_ids), ctx);
    const { yaml, vars } = await composeFor(infos, ctx);
    const names = infos.map(nameOf);
    const fenced = fenceText(
      yaml.trimEnd(),
      `compose file generated from containers ${names.join(', ')}`,
      'none',
    );
    return [
      `Here is a compose file generated from ${names.length} container(s): ${names.join(', ')}.` +
        (total > infos.length
          ? ` ${total - infos.length} more were left out (the limit is ${infos.length}).`
          : ''),
      ...alterations(yaml, vars),
      'Named volumes and networks are marked external (they already exist); `$$` is a literal `$`.',
      '',
      fenced,
      '',
      `${UNTRUSTED_NOTE} Values in the file (environment, labels) come from the containers' configuration.`,
      '',
      'Review it: check that it recreates the containers, point out what did not carry over (anonymous ' +
        'volumes, containers started with --link or on the default bridge), and suggest improvements ' +
        '(pinned image tags, a network per application, depends_on, healthchecks, resource limits). ' +
        'Then give the final file in one yaml code block, keeping the placeholders.',
    ].join('\n');
  },
});
