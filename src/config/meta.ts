/**
 * What every config field declares besides its type and default: its section, description, CLI flag
 * and env names. `--help`, the README options table and `doctor` group fields by section; config
 * file keys stay flat camelCase whatever the section.
 */
import type { TSchema } from 'typebox';

/** The sections in the order `--help`, the README table and `doctor` show them. */
export const SECTIONS = {
  server: 'Server',
  engine: 'Engine',
  safety: 'Safety',
  limits: 'Limits',
  http: 'HTTP (--transport http)',
  auth: 'HTTP authentication (off when none of these is set)',
  clients: 'HTTP clients: rate limits and filtering',
} as const;
export type Section = keyof typeof SECTIONS;

export interface FieldMeta {
  section: Section;
  description: string;
  flag: string;
  /** Env names, first wins. Seed names (SAFETY_…, DOCKER_…) kept for drop-in compatibility. */
  env: string[];
  /** Shown in --help, the README and doctor instead of the default value. */
  defaultText?: string;
  /** The flag's value as --help shows it, when not the kind's (e.g. NAME=URL). */
  arg?: string;
}

/** `meta.http('address to listen on', '--host', ['MCP_DOCKER_HTTP_HOST'])`: the field's metadata in one section. */
const inSection =
  (section: Section) =>
  (description: string, flag: string, env: string[], extra: Partial<FieldMeta> = {}) => ({
    section,
    description,
    flag,
    env,
    ...extra,
  });
export const meta = Object.fromEntries(
  Object.keys(SECTIONS).map((s) => [s, inSection(s as Section)]),
) as Record<Section, ReturnType<typeof inSection>>;

export const LIST_HELP = 'comma-separated or JSON array';

export type FieldSchema = TSchema & FieldMeta & { default?: unknown };

export const kindOf = (s: TSchema): 'boolean' | 'integer' | 'list' | 'string' => {
  const t = (s as { type?: string }).type;
  if (t === 'boolean') return 'boolean';
  if (t === 'integer') return 'integer';
  if (t === 'array') return 'list';
  return 'string';
};

/** What a field accepts, in words, for the error that refuses a value (the constants of a choice aside). */
export function expectation(s: TSchema): string {
  const { minimum, maximum, minLength } = s as { minimum?: number; maximum?: number; minLength?: number };
  switch (kindOf(s)) {
    case 'boolean':
      return 'must be true or false';
    case 'integer':
      if (minimum !== undefined && maximum !== undefined)
        return `must be an integer >= ${minimum} and <= ${maximum}`;
      if (minimum !== undefined) return `must be an integer >= ${minimum}`;
      return maximum !== undefined ? `must be an integer <= ${maximum}` : 'must be an integer';
    case 'list':
      return 'must be a list of strings';
    default:
      return minLength ? 'must be a non-empty string' : 'must be a string';
  }
}

/** The default as `--help`, the README and doctor print it (undefined when there is none worth printing). */
export function defaultText(s: FieldSchema): string | undefined {
  if (s.defaultText !== undefined) return s.defaultText;
  if (s.default === undefined || (Array.isArray(s.default) && s.default.length === 0)) return undefined;
  return String(s.default);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}
