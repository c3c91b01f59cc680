/** What initialize answers, on either path (stdio's own and the SDK's), and what it reads of the client. */

export const serverInfo = (version: string) => ({ name: 'mcp-docker', title: 'Docker', version });
export const CAPABILITIES = {
  tools: { listChanged: false },
  prompts: { listChanged: false },
  resources: { subscribe: true, listChanged: false },
  completions: {},
};

/** Whether declared client capabilities include form elicitation (`elicitation: {}` counts, as in the SDK). */
export function canElicit(capabilities: unknown): boolean {
  if (capabilities === null || typeof capabilities !== 'object') return false;
  const e = (capabilities as { elicitation?: unknown }).elicitation;
  if (e === null || typeof e !== 'object') return false;
  const modes = e as { form?: unknown; url?: unknown };
  return modes.form !== undefined || modes.url === undefined;
}
