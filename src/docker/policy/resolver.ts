import { realpathSync } from 'node:fs';
import type { PathResolver } from './paths.ts';

/** The real filesystem: symlinks resolved; undefined when the path does not exist. */
export const nodePathResolver: PathResolver = {
  realpath(path) {
    try {
      return realpathSync(path);
    } catch {
      return undefined;
    }
  },
};
