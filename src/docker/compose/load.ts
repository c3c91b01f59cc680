/**
 * Loading a Compose project: files (or inline content) → YAML with anchors and merge keys →
 * interpolation → the Compose Specification's schema → key check → `extends` → canonical (long) syntaxes → files merged in order →
 * profiles. Every file is read through `read`, which the caller makes pass the host-path rule.
 * Pure apart from `read`, so unit tests hand it an in-memory file system.
 */
import { posix } from 'node:path';
import { parseDocument, type ScalarTag } from 'yaml';
import { reword, ToolError } from '../../core/errors.ts';
import { isSecretName } from '../../core/redact.ts';
import { castScalars } from './cast.ts';
import {
  type Expansion,
  expansion,
  interpolateTree,
  MAX_VALUE_CHARS,
  maskSecrets,
  parseEnvFile,
  type Vars,
} from './interpolate.ts';
import { checkKeys } from './keys.ts';
import { linkedServices, mergeService, normaliseService, type Obj } from './normalise.ts';
import { sharedServices } from './spec.ts';
import { dropResets, type Tagged, takeMergeTags, withoutTagged } from './tags.ts';
import { validateFile } from './validate.ts';

/** Reads a host file, already checked against the host-path rule; undefined when it does not exist. */
export type ReadFile = (path: string, what: string) => Promise<string | undefined>;

export interface LoadInput {
  project_dir?: string;
  files?: string[];
  content?: string;
  project_name?: string;
  profiles?: string[];
  services?: string[];
  env?: Record<string, string>;
}

export interface LoadOptions {
  read: ReadFile;
  home: string;
  /** The server's own environment; only over stdio (HTTP callers get `env` and `.env` only). */
  processEnv?: Vars;
}

export interface Project {
  name: string;
  /** Absolute; '' for inline content without project_dir. */
  workingDir: string;
  configFiles: string[];
  services: Record<string, Obj>;
  networks: Record<string, Obj>;
  volumes: Record<string, Obj>;
  /** Top-level secrets and configs; a `file:` is made absolute, an `environment:` (or inline config `content:`) read into `content`. */
  secrets: Record<string, Obj>;
  configs: Record<string, Obj>;
  /** Services left out by profiles. */
  disabled: string[];
  /** Values of secret-named variables interpolated into the model: masked where the model is shown. */
  secretValues: ReadonlySet<string>;
}

const CANDIDATES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];
const OVERRIDES = [
  'compose.override.yaml',
  'compose.override.yml',
  'docker-compose.override.yaml',
  'docker-compose.override.yml',
];

/** The name inline `content` goes by where a file's path would be. */
const CONTENT = '<content>';

const invalid = (message: string, hint: string) => new ToolError('invalid_argument', message, { hint });

/** Docker Compose's project-name rule: lower case, only [a-z0-9_-], starting with a letter or digit. */
export function normaliseProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[^a-z0-9]+/, '');
}

/**
 * A project name given by the caller (or a file's `name`), refused unless it already follows the rule:
 * as Compose refuses an explicit `-p`, since rewriting it ('MyApp.Web' to 'myappweb') would act on a
 * project the caller never named. `what` says where it came from.
 */
export function projectNameOf(raw: string, what = "argument 'project_name'"): string {
  const name = normaliseProjectName(raw);
  if (name === raw && name !== '') return name;
  const shown = JSON.stringify(raw.length > 60 ? `${raw.slice(0, 57)}...` : raw);
  throw invalid(
    `invalid ${what}: ${shown} is not a Compose project name: it must consist only of lowercase alphanumeric characters, hyphens and underscores, and start with a letter or digit`,
    name ? `Pass '${name}' if that is the project you mean.` : 'Use lower-case letters, digits, - and _.',
  );
}

/** The name Compose gives a project from its directory: normalised, refused when nothing is left. */
function dirProjectName(dir: string): string {
  const name = normaliseProjectName(posix.basename(dir));
  if (!name)
    throw invalid(
      `the project directory's name "${posix.basename(dir)}" has no character a project name may hold`,
      'Pass project_name: lower-case letters, digits, - and _.',
    );
  return name;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function loadProject(input: LoadInput, opts: LoadOptions): Promise<Project> {
  const x = expansion();
  try {
    return await loadWith(input, opts, x);
  } catch (e) {
    // An error may quote an interpolated value (`cannot read "<a token>"`): not a secret's.
    throw e instanceof ToolError && x.secrets.size > 0
      ? reword(
          e,
          (m) => maskSecrets(m, x.secrets),
          (h) => h && maskSecrets(h, x.secrets),
        )
      : e;
  }
}

async function loadWith(input: LoadInput, opts: LoadOptions, x: Expansion): Promise<Project> {
  // As Compose: the project directory, else the directory of the first file.
  const first = input.content === undefined ? input.files?.[0] : undefined;
  const dir = input.project_dir
    ? posix.resolve(expandHome(input.project_dir, opts.home))
    : first && posix.isAbsolute(expandHome(first, opts.home))
      ? posix.dirname(expandHome(first, opts.home))
      : '';
  if (input.content === undefined && !dir)
    throw invalid(
      'no project given',
      'Pass project_dir, files (with project_dir) or content (with project_name).',
    );
  if (input.content !== undefined && !input.project_name)
    throw invalid("'content' needs 'project_name'", 'Name the project with project_name.');

  // The files and their text, in merge order.
  const sources: { path: string; text: string }[] = [];
  if (input.content !== undefined) {
    // Named for what was read: no file (relative paths still resolve against project_dir).
    sources.push({ path: CONTENT, text: input.content });
  } else if (input.files?.length) {
    for (const f of input.files) {
      const path = posix.resolve(dir, expandHome(f, opts.home));
      const text = await opts.read(path, 'files');
      if (text === undefined)
        throw invalid(`compose file not found: ${f}`, 'Check files; they are relative to project_dir.');
      sources.push({ path, text });
    }
  } else {
    for (const group of [CANDIDATES, OVERRIDES]) {
      for (const f of group) {
        const path = posix.join(dir, f);
        const text = await opts.read(path, 'project_dir');
        if (text !== undefined) {
          sources.push({ path, text });
          break;
        }
      }
      if (sources.length === 0)
        throw invalid(
          `no compose file in ${input.project_dir}`,
          `Add ${CANDIDATES.join(', ')}, or pass files or content.`,
        );
    }
  }

  const dotenvPath = posix.join(dir, '.env');
  const dotenv = dir ? await opts.read(dotenvPath, '.env') : undefined;
  const dotenvVars = dotenv ? parseEnvFile(dotenv, {}, dotenvPath, x) : {};
  const vars: Vars = {
    ...dotenvVars,
    ...opts.processEnv,
    ...input.env,
  };

  const ctx: Ctx = { vars, opts, dir, x, loading: new Set(), resolved: new Map(), tags: new Map() };
  let services: Record<string, Obj> = {};
  let networks: Record<string, Obj> = {};
  let volumes: Record<string, Obj> = {};
  let secrets: Record<string, Obj> = {};
  let configs: Record<string, Obj> = {};
  let fileName: { name: string; path: string } | undefined;
  for (const src of sources) {
    const doc = await parseFile(src.path, src.text, ctx);
    if (typeof doc.name === 'string') fileName = { name: doc.name, path: src.path };
    const own = await fileServices(doc, src.path, ctx);
    for (const [name, svc] of Object.entries(own))
      services[name] = services[name]
        ? mergeService(withoutTagged(services[name], ctx.tags.get(`${src.path}#${name}`)), svc)
        : svc;
    networks = mergeTop(networks, doc.networks);
    volumes = mergeTop(volumes, doc.volumes);
    const base = dir || (src.path.startsWith('/') ? posix.dirname(src.path) : '');
    secrets = mergeTop(secrets, withSources(doc.secrets, base, opts.home, src.path, vars));
    configs = mergeTop(configs, withSources(doc.configs, base, opts.home, src.path, vars));
  }

  // As Compose: COMPOSE_PROJECT_NAME and COMPOSE_PROFILES from the call's env or .env (not the server's
  // own environment: one name for every project the server handles would merge them).
  const setting = (k: string) => input.env?.[k] || dotenvVars[k] || undefined;
  const envName = setting('COMPOSE_PROJECT_NAME');
  // A secret in the name is refused as such first (refuseSecretNames), before its shape is judged.
  refuseSecretNames(input.project_name ?? envName ?? fileName?.name ?? '', {}, {}, x.secrets);
  // Compose's precedence: -p, then COMPOSE_PROJECT_NAME, then the file's name:, then the directory.
  const name =
    input.project_name !== undefined
      ? projectNameOf(input.project_name)
      : envName !== undefined
        ? projectNameOf(
            envName,
            `COMPOSE_PROJECT_NAME${input.env?.COMPOSE_PROJECT_NAME ? ' in env' : ' in .env'}`,
          )
        : fileName !== undefined
          ? projectNameOf(fileName.name, `'name' in ${fileName.path}`)
          : dirProjectName(dir);

  // Profiles: a service with profiles runs when one is active or it is asked for by name; as Compose v2,
  // a service asked for by name activates its profiles (so its dependencies in them come too).
  const profiles = input.profiles?.length
    ? input.profiles
    : (setting('COMPOSE_PROFILES')
        ?.split(',')
        .map((p) => p.trim())
        .filter(Boolean) ?? []);
  const asked = new Set(input.services ?? []);
  const active = new Set([
    ...profiles,
    ...[...asked].flatMap((n) => (services[n]?.profiles as string[] | undefined) ?? []),
  ]);
  const disabled: string[] = [];
  for (const [n, s] of Object.entries(services)) {
    const p = (s.profiles as string[] | undefined) ?? [];
    if (p.length > 0 && !p.some((x) => active.has(x) || x === '*') && !asked.has(n)) {
      disabled.push(n);
      delete services[n];
    }
  }
  for (const [n, s] of Object.entries(services)) {
    const count = Number((s.deploy as Obj | undefined)?.replicas ?? s.scale ?? 1);
    if (s.container_name !== undefined && count > 1)
      throw invalid(
        `service "${n}": container_name and ${count} replicas`,
        'A container name is unique: drop container_name or scale to 1.',
      );
    for (const [key, other] of sharedServices(s))
      if (!services[other])
        throw invalid(
          `service "${n}": ${key} service:${other} names no service`,
          disabled.includes(other) ? 'Enable its profile (profiles).' : 'Name a service of this project.',
        );
    for (const [key, other] of linkedServices(s))
      if (!services[other])
        throw invalid(
          `service "${n}": ${key} names undefined service "${other}"`,
          disabled.includes(other) ? 'Enable its profile (profiles).' : 'Name a service of this project.',
        );
  }
  for (const [n, s] of Object.entries(services))
    if (s.image === undefined && s.build === undefined)
      throw invalid(`service "${n}" has neither image nor build`, 'Give it an image.');
  for (const n of asked)
    if (!services[n] && !disabled.includes(n))
      throw invalid(`no such service: ${n}`, `Services: ${Object.keys(services).join(', ') || 'none'}.`);
  for (const [n, s] of Object.entries(services))
    for (const dep of Object.keys((s.depends_on as Obj | undefined) ?? {}))
      if (!services[dep] && ((s.depends_on as Record<string, Obj>)[dep]?.required ?? true))
        throw invalid(
          `service "${n}" depends on undefined service "${dep}"`,
          disabled.includes(dep)
            ? `Enable its profile (profiles).`
            : 'Define it, or remove it from depends_on.',
        );
  services = Object.fromEntries(Object.entries(services).sort(([a], [b]) => a.localeCompare(b)));
  refuseSecretNames(name, services, { networks, volumes, secrets, configs }, x.secrets);
  return {
    name,
    workingDir: dir,
    configFiles: sources.map((s) => s.path),
    services,
    networks,
    volumes,
    secrets,
    configs,
    disabled,
    secretValues: x.secrets,
  };
}

/** Service keys whose value names an object anyone who may list containers or images can read. */
const NAME_KEYS = ['container_name', 'hostname', 'domainname', 'image'] as const;

/**
 * Refuses a secret-named variable's value (`container_name: db-${DB_PASSWORD}`) in a name: config masks
 * it, but once made the object is listed under it by ps, docker_list_containers and the engine to every
 * caller, and masking it there would leave a name the caller cannot use.
 */
function refuseSecretNames(
  project: string,
  services: Record<string, Obj>,
  top: Record<string, Record<string, Obj>>,
  found: ReadonlySet<string>,
): void {
  if (found.size === 0) return;
  const named = (value: unknown, where: string) => {
    if (typeof value === 'string' && maskSecrets(value, found) !== value)
      throw invalid(
        `${where} holds the value of a secret-named variable, which would become a name anyone can list`,
        'Name it without the secret.',
      );
  };
  named(project, 'the project name');
  for (const [n, s] of Object.entries(services))
    for (const k of NAME_KEYS) named(s[k], `service "${n}": ${k}`);
  for (const [kind, entries] of Object.entries(top))
    for (const [k, v] of Object.entries(entries)) named(v?.name, `${kind}.${k}.name`);
}

interface Ctx {
  vars: Vars;
  opts: LoadOptions;
  dir: string;
  x: Expansion;
  /** extends chain, to stop a cycle. */
  loading: Set<string>;
  /** Services resolved so far, by file and name: a long extends chain is resolved once, not per link. */
  resolved: Map<string, Obj>;
  /** `!reset` / `!override` keys, by file and service (`path#name`). */
  tags: Map<string, Tagged[]>;
}

/**
 * A plain integer with a leading zero (`mode: 0440`) is octal, as Docker Compose reads it (Go's YAML
 * parses integers with base 0); YAML 1.2's core schema alone would read 440. Quoted values stay strings.
 */
const goOctal: ScalarTag = {
  identify: () => false,
  default: true,
  tag: 'tag:yaml.org,2002:int',
  test: /^[-+]?0[0-7]+$/,
  resolve: (text) => Number.parseInt(text, 8),
};

/**
 * The most one file may hold once its aliases are expanded: twice what a project file may hold (open.ts),
 * so a file of many small nodes passes, while the copies made of it stay near a hundred MB.
 */
export const MAX_EXPANDED_CHARS = 2 * MAX_VALUE_CHARS;
/** What a mapping entry or list item counts beside its text: many aliases of a small node add up too. */
const NODE_CHARS = 8;
const MAX_NESTING = 256;

/**
 * Refuses a file whose aliases expand past MAX_EXPANDED_CHARS. The parsed tree shares an aliased node
 * (`command: [*big, *big, …]` holds one string 300 times); every later step (interpolation, normalising,
 * cloning, the result) copies it per use, so its expanded size is what the load costs. Counted before any
 * copy, and the walk stops at the limit, so it costs at most MAX_EXPANDED_CHARS / NODE_CHARS steps.
 */
export function checkExpandedSize(doc: unknown, path: string): void {
  let left = MAX_EXPANDED_CHARS;
  const walk = (v: unknown, depth: number): void => {
    left -= typeof v === 'string' ? v.length + NODE_CHARS : NODE_CHARS;
    if (left < 0)
      throw invalid(
        `${path}: expands to more than ${MAX_EXPANDED_CHARS / 1024 / 1024} MiB once its YAML aliases are resolved`,
        'Use fewer or smaller aliases (*name).',
      );
    // An alias inside the node it names (`&a [*a]`) makes a cycle: no Compose file nests this deep.
    if (depth > MAX_NESTING)
      throw invalid(
        `${path}: nests more than ${MAX_NESTING} levels deep`,
        'Remove the alias that names its own parent.',
      );
    if (Array.isArray(v)) for (const w of v) walk(w, depth + 1);
    else if (v && typeof v === 'object')
      for (const [k, w] of Object.entries(v)) {
        left -= k.length;
        walk(w, depth + 1);
      }
  };
  walk(doc, 0);
}

async function parseFile(path: string, text: string, ctx: Ctx): Promise<Obj> {
  let doc: unknown;
  let tags: ReturnType<typeof takeMergeTags>;
  try {
    const parsed = parseDocument(text, { merge: true, customTags: (tags) => [goOctal, ...tags] });
    if (parsed.errors[0]) throw parsed.errors[0];
    tags = takeMergeTags(parsed, path);
    doc = parsed.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    if (e instanceof ToolError) throw e;
    throw invalid(`${path}: not valid YAML: ${(e as Error).message.split('\n')[0]}`, 'Fix the YAML syntax.');
  }
  // As Compose: a file with nothing in it (blank, or comments only) is not an empty project.
  if (doc === null || doc === undefined)
    throw invalid(
      path === CONTENT ? "'content' is an empty compose file" : `${path}: empty compose file`,
      'Give at least one service under services:.',
    );
  if (!isObj(doc)) throw invalid(`${path}: the top level must be a mapping`, 'Start with services:.');
  checkExpandedSize(doc, path);
  dropResets(doc, tags);
  for (const [service, list] of Object.entries(tags)) ctx.tags.set(`${path}#${service}`, list);
  const done = interpolateTree(doc, ctx.vars, `${path}: `, ctx.x) as Obj;
  castScalars(done, path);
  // The specification first (every file, as written); then what this implementation does not map.
  await validateFile(done, path);
  checkKeys(done, path);
  return done;
}

/** One file's services, normalised, with `extends` resolved. */
async function fileServices(doc: Obj, path: string, ctx: Ctx): Promise<Record<string, Obj>> {
  const raw = (doc.services as Record<string, Obj> | undefined) ?? {};
  const out: Record<string, Obj> = {};
  for (const name of Object.keys(raw)) out[name] = await service(raw, name, path, ctx);
  return out;
}

async function service(raw: Record<string, Obj>, name: string, path: string, ctx: Ctx): Promise<Obj> {
  const key = `${path}#${name}`;
  if (ctx.loading.has(key))
    throw invalid(`${path}: service "${name}": extends makes a cycle`, 'Break the cycle.');
  const done = ctx.resolved.get(key);
  if (done) return structuredClone(done);
  const made = await resolveService(raw, name, path, key, ctx);
  ctx.resolved.set(key, made);
  return structuredClone(made);
}

async function resolveService(
  raw: Record<string, Obj>,
  name: string,
  path: string,
  key: string,
  ctx: Ctx,
): Promise<Obj> {
  const s = raw[name];
  if (!isObj(s)) throw invalid(`${path}: service "${name}" must be a mapping`, 'Give the service its keys.');
  const base = ctx.dir || (path.startsWith('/') ? posix.dirname(path) : '');
  const own = await normaliseService(s, {
    file: path,
    service: name,
    dir: base,
    home: ctx.opts.home,
    readEnvFile: (p, key) => readEnv(p, ctx, key),
    // A bare `environment: [NAME]` takes its value from the interpolation environment, as Compose.
    lookup: (k) => {
      const v = ctx.vars[k];
      if (v && isSecretName(k)) ctx.x.secrets.add(v);
      return v;
    },
  });
  const ext = s.extends;
  if (ext === undefined) return own;
  const ref = typeof ext === 'string' ? { service: ext } : (ext as { service: string; file?: string });
  ctx.loading.add(key);
  try {
    let parent: Obj;
    if (ref.file) {
      const given = expandHome(ref.file, ctx.opts.home);
      // Relative to the file that extends; inline content has project_dir's, or none (never the server's).
      const from = posix.dirname(path) === '.' ? ctx.dir : posix.dirname(path);
      if (!posix.isAbsolute(given) && !from)
        throw invalid(
          `${path}: service "${name}": relative extends.file "${ref.file}" needs project_dir`,
          'Pass project_dir, or give extends.file as an absolute path.',
        );
      const file = posix.resolve(from, given);
      const text = await ctx.opts.read(file, 'extends.file');
      if (text === undefined)
        throw invalid(`${path}: service "${name}": extends.file not found: ${ref.file}`, 'Fix extends.file.');
      const doc = await parseFile(file, text, ctx);
      const others = (doc.services as Record<string, Obj> | undefined) ?? {};
      if (!others[ref.service])
        throw invalid(
          `${file}: no service "${ref.service}" to extend (from service "${name}")`,
          'Fix extends.service.',
        );
      parent = await service(others, ref.service, file, { ...ctx, dir: posix.dirname(file) });
    } else {
      if (!raw[ref.service])
        throw invalid(
          `${path}: service "${name}": extends names unknown service "${ref.service}"`,
          'Fix extends.service.',
        );
      parent = await service(raw, ref.service, path, ctx);
    }
    // What is never inherited.
    const { depends_on: _d, ...inherited } = parent;
    return mergeService(withoutTagged(inherited, ctx.tags.get(key)), own);
  } finally {
    ctx.loading.delete(key);
  }
}

async function readEnv(
  path: string,
  ctx: Ctx,
  key = 'env_file',
): Promise<Record<string, string> | undefined> {
  const text = await ctx.opts.read(path, key);
  return text === undefined ? undefined : parseEnvFile(text, ctx.vars, path, ctx.x);
}

function mergeTop(into: Record<string, Obj>, add: unknown): Record<string, Obj> {
  if (!isObj(add)) return into;
  const out = { ...into };
  for (const [k, v] of Object.entries(add)) out[k] = { ...(out[k] ?? {}), ...(isObj(v) ? v : {}) };
  return out;
}

export const expandHome = (p: string, home: string): string =>
  p === '~' ? home : p.startsWith('~/') ? posix.join(home, p.slice(2)) : p;

/**
 * Top-level secrets/configs with each `file:` made absolute (the engine reads it as a bind), and each
 * `environment:` read now into `content` (copied into the container before it starts, as Compose does).
 */
function withSources(v: unknown, base: string, home: string, path: string, vars: Vars): unknown {
  if (!isObj(v)) return v;
  return Object.fromEntries(
    Object.entries(v).map(([k, d]) => {
      if (isObj(d) && typeof d.environment === 'string') {
        const value = vars[d.environment];
        if (value === undefined)
          throw invalid(
            `${path}: "${k}" reads environment variable ${d.environment}, which is not set`,
            'Set it (env, .env or the environment), or back the secret with a file.',
          );
        return [k, { ...d, content: value }];
      }
      if (!isObj(d) || typeof d.file !== 'string') return [k, d];
      const f = expandHome(d.file, home);
      if (!f.startsWith('/') && !base)
        throw invalid(`${path}: "${k}": relative file "${d.file}" needs project_dir`, 'Pass project_dir.');
      return [k, { ...d, file: posix.resolve(base, f) }];
    }),
  );
}
