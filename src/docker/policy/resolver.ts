import { nodeFs } from '../../core/node-builtins.ts';
import type { PathResolver } from './paths.ts';

/** The real filesystem: symlinks resolved; undefined when the path does not exist. */
export const nodePathResolver: PathResolver = {
  realpath(path) {
    try {
      return nodeFs().realpathSync(path);
    } catch {
      return undefined;
    }
  },
};
