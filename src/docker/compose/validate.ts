/**
 * Validation of one Compose file (after interpolation) against the official Compose Specification
 * JSON schema (vendored in ./schema with its licence). The validator is compiled once, on the first
 * load that needs it, so a server that never loads a project pays nothing. Errors name the file and
 * the key path (`services.web.ports[0]`) and say how to write it instead.
 */
import { ToolError } from '../../core/errors.ts';

interface SchemaError {
  keyword: string;
  instancePath: string;
  schemaPath: string;
  params: Record<string, unknown>;
  message: string;
}
type Check = (doc: unknown) => SchemaError[];

let compiled: Promise<{ check: Check; spec: unknown }> | undefined;

/** The compiled validator, built on first use (typebox's JSON Schema compiler: draft-07, patternProperties). */
export function composeValidator(): Promise<{ check: Check; spec: unknown }> {
  compiled ??= Promise.all([import('typebox/schema'), import('./schema/compose-spec.json')]).then(
    ([{ Compile }, mod]) => {
      const spec = (mod as { default?: unknown }).default ?? mod;
      const v = Compile(spec as never);
      const check: Check = (doc) => (v.Check(doc) ? [] : (v.Errors(doc)[1] as unknown as SchemaError[]));
      return { check, spec };
    },
  );
  return compiled;
}

/** The schema node a schemaPath points at, following `$ref`s on the way (for "did you mean"). */
function nodeAt(spec: unknown, schemaPath: string): Record<string, unknown> | undefined {
  let node = spec as Record<string, unknown> | undefined;
  const deref = (n: Record<string, unknown> | undefined) => {
    for (let i = 0; i < 8 && typeof n?.$ref === 'string'; i++) n = nodeAt(spec, n.$ref as string);
    return n;
  };
  for (const raw of schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = deref(node);
    node = node?.[seg] as Record<string, unknown> | undefined;
  }
  return deref(node);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] as number;
}

/** The closest key the schema allows there, when one is close enough to be a typo. */
function suggest(spec: unknown, e: SchemaError, key: string): string | undefined {
  const props = Object.keys((nodeAt(spec, e.schemaPath)?.properties as object | undefined) ?? {});
  const best = props.map((p) => [p, distance(key.toLowerCase(), p)] as const).sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= Math.max(1, Math.floor(key.length / 3)) ? best[0] : undefined;
}

/** How to write a key instead, by the nearest named key of the path. */
const FIX: Record<string, string> = {
  ports: 'use "8080:80", "127.0.0.1:8080:80/udp" or the long form {target: 80, published: "8080"}',
  expose: 'use a container port such as "80" or "8000-8010"',
  volumes: 'use "./data:/data:ro", "name:/data" or the long form {type: bind|volume|tmpfs, source, target}',
  environment: 'use a mapping (KEY: value) or a list of "KEY=value"',
  labels: 'use a mapping (key: value) or a list of "key=value"',
  args: 'use a mapping (NAME: value) or a list of "NAME=value"',
  sysctls: 'use a mapping (name: value) or a list of "name=value"',
  extra_hosts: 'use "host:IP" entries or a mapping (host: IP)',
  depends_on: 'list service names, or map each to {condition: service_started|service_healthy}',
  networks: 'list network names, or map each to {aliases: [...]} (or null)',
  command: 'use a string or a list of strings',
  entrypoint: 'use a string or a list of strings',
  env_file: 'use a path, a list of paths, or {path, required}',
  secrets: 'list names, or {source, target} per entry',
  configs: 'list names, or {source, target} per entry',
  ulimits: 'use a number, or {soft, hard}',
  healthcheck: 'use test, interval, timeout, retries, start_period, start_interval or disable',
  build: 'use a context path, or {context, dockerfile, args, target}',
  deploy: 'use replicas, resources.limits / reservations (cpus, memory, pids), restart_policy',
  logging: 'use {driver, options}',
  tmpfs: 'use a path or a list of paths',
  profiles: 'use a list of profile names',
  container_name: 'use two or more letters, digits, ".", "_" or "-", starting with a letter or digit',
  test: 'use a string ("CMD-SHELL curl -f http://localhost") or a list ["CMD", "curl", "-f", "…"]',
  services: 'service names use letters, digits, ".", "_" and "-"; each service is a mapping',
};
const TOP_FIX = 'top-level keys are version, name, services, networks, volumes, secrets, configs, x-…';

/** "/services/web/ports/0" → "services.web.ports[0]". */
export function keyPath(pointer: string): string {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return (
    parts.reduce(
      (out, p) =>
        /^\d+$/.test(p) ? `${out}[${p}]` : `${out}${out ? '.' : ''}${/^[\w.-]+$/.test(p) ? p : `"${p}"`}`,
      '',
    ) || 'top level'
  );
}

const fixFor = (pointer: string): string => {
  const named = pointer
    .split('/')
    .slice(1)
    .filter((p) => !/^\d+$/.test(p));
  if (named.length === 0) return TOP_FIX;
  if (named[0] === 'services' && named.length <= 2)
    return named.length === 1
      ? (FIX.services as string)
      : 'a service is a mapping of keys (image, command, ports…)';
  // The innermost key with advice (under services.<name>, not the service's own name).
  for (let i = named.length - 1; i >= (named[0] === 'services' ? 2 : 0); i--) {
    const fix = FIX[named[i] as string];
    if (fix) return fix;
  }
  return 'see the Compose Specification for this key';
};

const quoted = (keys: unknown) => ((keys as string[] | undefined) ?? []).map((k) => `"${k}"`).join(', ');

/** What is wrong at an error's path, and how to write it instead. */
function describe(e: SchemaError, branch: SchemaError[], spec: unknown): { what: string; fix: string } {
  const fix = fixFor(e.instancePath);
  switch (e.keyword) {
    case 'additionalProperties': {
      const keys = (e.params.additionalProperties as string[] | undefined) ?? [];
      if (e.instancePath === '/services') return { what: `invalid service name ${quoted(keys)}`, fix };
      const near = keys.map((k) => suggest(spec, e, k)).find(Boolean);
      return {
        what: `unknown key ${quoted(keys)}`,
        fix: near
          ? `did you mean "${near}"?`
          : e.instancePath === ''
            ? TOP_FIX
            : 'check its spelling and level',
      };
    }
    case 'required':
      return { what: `needs ${quoted(e.params.requiredProperties) || e.message}`, fix };
    case 'enum':
      return {
        what: `must be one of ${((e.params.allowedValues as unknown[] | undefined) ?? []).map((v) => JSON.stringify(v)).join(', ')}`,
        fix,
      };
    case 'oneOf':
    case 'anyOf': {
      // The deepest failure inside a branch says more than "no form matched" (an unknown key, a bad value).
      const inner = branch
        .filter((b) => b.keyword !== 'oneOf' && b.keyword !== 'anyOf' && b.keyword !== 'type')
        .sort((a, b) => b.instancePath.length - a.instancePath.length)[0];
      if (!inner) return { what: 'not in any accepted form', fix };
      const d = describe(inner, [], spec);
      const rel = inner.instancePath.slice(e.instancePath.length);
      return {
        what: `not in any accepted form (${rel ? `${keyPath(rel)}: ` : ''}${d.what})`,
        fix: d.fix.startsWith('did you mean') ? d.fix : fix,
      };
    }
    case 'pattern':
      return { what: `must match ${String(e.params.pattern ?? '').replace(/^\^|\$$/g, '')}`, fix };
    case 'type':
      return { what: `must be ${[e.params.type].flat().join(' or ')}`, fix };
    default:
      return { what: e.message, fix };
  }
}

/**
 * The schema's verdict on one file: a ToolError naming every faulty key path (up to five) with how
 * to fix it, or nothing. Errors inside a failed oneOf/anyOf branch fold into that one error.
 */
export async function validateFile(doc: unknown, file: string): Promise<void> {
  const { check, spec } = await composeValidator();
  const errors = check(doc).filter((e) => e.keyword !== 'boolean');
  if (errors.length === 0) return;
  const combinators = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  const inBranch = (e: SchemaError) =>
    combinators.some((c) => c !== e && e.schemaPath.startsWith(`${c.schemaPath}/${c.keyword}/`));
  const lines: string[] = [];
  for (const e of errors) {
    if (inBranch(e)) continue;
    const branch = errors.filter((b) => b.schemaPath.startsWith(`${e.schemaPath}/${e.keyword}/`));
    const d = describe(e, branch, spec);
    const line = `${keyPath(e.instancePath)}: ${d.what} — ${d.fix}`;
    if (!lines.includes(line)) lines.push(line);
  }
  const shown = lines.slice(0, 5);
  const more = lines.length > shown.length ? `; and ${lines.length - shown.length} more` : '';
  throw new ToolError(
    'invalid_argument',
    `${file}: does not follow the Compose Specification: ${shown.join('; ')}${more}`,
    { hint: 'Fix each key named as said; x- keys are free for extensions.' },
  );
}
