/** The project input every compose tool takes, and how a call finds its project. */
import { isAbsolute } from 'node:path';
import Type from 'typebox';
import type { EngineFacts } from '../../core/engine.ts';
import { ToolError } from '../../core/errors.ts';
import { secretForms } from '../../docker/compose/interpolate.ts';
import { type LoadInput, type Project, projectNameOf } from '../../docker/compose/load.ts';
import { openProject } from '../../docker/compose/open.ts';
import { MAX_ARG, MAX_NAME, StringList, StringMap } from '../params.ts';

const PATH = 4096;

export const projectInput = {
  project_dir: Type.Optional(Type.String({ maxLength: PATH, description: 'Host dir with compose.yaml' })),
  files: StringList(PATH, 'Relative to project_dir'),
  content: Type.Optional(Type.String({ maxLength: MAX_ARG, description: 'Compose YAML' })),
  project_name: Type.Optional(Type.String({ maxLength: MAX_NAME })),
  profiles: StringList(MAX_NAME),
  services: StringList(MAX_NAME),
  env: StringMap('Interpolation vars'),
};

/**
 * The same input for the verbs that usually find their project by `project_name` alone (ps, logs,
 * start, stop, restart, down): `project_dir` and `files` go undescribed there (config and up describe
 * them, and they mean what `docker compose --project-directory` and `-f` mean), the bytes the default
 * listing's budget needed.
 */
export const projectRef = {
  ...projectInput,
  project_dir: Type.Optional(Type.String({ maxLength: PATH })),
  files: StringList(PATH),
};

/** The project input's arguments: what the loader reads. */
export type ProjectArgs = LoadInput;

type Engine = { resolveFacts(signal?: AbortSignal): Promise<EngineFacts> };

export const hasModel = (a: ProjectArgs) =>
  a.project_dir !== undefined || a.content !== undefined || (a.files?.length ?? 0) > 0;

export type ProcessEnv = Readonly<Record<string, string | undefined>>;

/** What loading takes of the handler's context. */
export interface LoadContext {
  engine: Engine;
  signal: AbortSignal;
  processEnv?: ProcessEnv;
  conceal: (values: Iterable<string>) => void;
}

/**
 * The project, its secret-named values handed to the pipeline (ctx.conceal), so that no error of the
 * call quotes one: a refusal or an engine error after the load may (`bad format for add-host: "…"`).
 */
export async function load(ctx: LoadContext, a: ProjectArgs): Promise<Project> {
  const p = await loadChecked(ctx, a);
  if (p.secretValues.size > 0) ctx.conceal(secretForms(p.secretValues));
  return p;
}

function loadChecked({ engine, signal, processEnv }: LoadContext, a: ProjectArgs): Promise<Project> {
  if (a.project_dir !== undefined && !isAbsolute(a.project_dir))
    throw new ToolError(
      'invalid_argument',
      `'project_dir' must be an absolute path, got '${a.project_dir}'`,
      {
        hint: 'Give the absolute path of the directory holding compose.yaml on the server host.',
      },
    );
  const blank = a.files?.findIndex((f) => f.trim() === '') ?? -1;
  if (blank >= 0)
    throw new ToolError('invalid_argument', `'files[${blank}]' is empty`, {
      hint: 'Name each Compose file, e.g. compose.yaml, or leave files out to use the standard names.',
    });
  if (a.files?.length && a.project_dir === undefined && a.files.some((f) => !isAbsolute(f)))
    throw new ToolError('invalid_argument', "relative 'files' need 'project_dir'", {
      hint: 'Pass project_dir, or absolute paths in files.',
    });
  return openProject(engine, a, signal, processEnv);
}

/** The project's name: from its files when given, else project_name alone (found by labels). */
export async function projectName(ctx: LoadContext, a: ProjectArgs): Promise<string> {
  if (hasModel(a)) return (await load(ctx, a)).name;
  if (a.project_name) return projectNameOf(a.project_name);
  throw new ToolError('invalid_argument', 'no project given', {
    hint: 'Pass project_name (of a running project), project_dir, files or content.',
  });
}
