/**
 * The docker_dashboard tool's MCP App view: a `ui://` resource holding one self-contained HTML page
 * (MIME `text/html;profile=mcp-app`). It is listed and read exactly when the tool is (index.ts gives it
 * the tool's toolset and `uses` it), and the host renders it in a sandbox; the page fetches nothing.
 */
import { defineResource } from '../define.ts';
import { dashboardHtml } from './html.ts';

/** The same URI the tool's listing names (src/tools/system/dashboard.ts). */
export const DASHBOARD_URI = 'ui://mcp-docker/dashboard.html';

export const dashboardView = defineResource({
  name: 'dashboard_view',
  uri: DASHBOARD_URI,
  title: 'Docker dashboard view',
  description: "The docker_dashboard tool's interactive view (an MCP App): containers, stats, logs, actions.",
  mimeType: 'text/html;profile=mcp-app',
  whole: true,
  async read() {
    return {
      mimeType: 'text/html;profile=mcp-app',
      text: await dashboardHtml(),
      // No connect or resource domains: the host's sandbox lets the page reach nothing.
      _meta: { ui: { csp: { connectDomains: [], resourceDomains: [] }, prefersBorder: true } },
    };
  },
});
