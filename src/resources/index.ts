/** The resource catalogue: fixed URIs and URI templates, sorted by name so listings are deterministic. */
import { containerList } from './containers.ts';
import type { AnyResource } from './define.ts';
import { containerLogs } from './logs.ts';
import { containerStats } from './stats.ts';

export const resources: readonly AnyResource[] = [containerList, containerLogs, containerStats].sort((a, b) =>
  a.name.localeCompare(b.name),
);
