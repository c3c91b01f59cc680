/**
 * The test host page's script (runs in Chromium): embeds the dashboard view in a sandboxed frame and
 * connects it through the extension's own host bridge. The bridge has no MCP client of its own: every
 * tools/call the view makes goes to `window.mcpCall`, which the test exposes and answers with its real
 * MCP client connected to the compiled binary. `window.relay` may rewrite what the view is told
 * (a stale or tampered view, for the refusal test); by default it passes results through.
 */
import { AppBridge, PostMessageTransport } from '@modelcontextprotocol/ext-apps/app-bridge';

type Result = {
  content: { type: 'text'; text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
};

declare global {
  interface Window {
    mcpCall(name: string, args: Record<string, unknown>): Promise<Result>;
    hostReady: Promise<void>;
    hostLog: string[];
    offerActions?: string[];
    /** Changes the host's theme, as a host does when its user switches. */
    setTheme?(theme: 'light' | 'dark'): void;
  }
}

/** The view is told of more actions than the server allows: proves the server refuses, not the view. */
const relay = (name: string, r: Result): Result => {
  const extra = window.offerActions;
  if (!extra || name !== 'docker_dashboard' || !r.structuredContent) return r;
  const sc = { ...r.structuredContent, actions: [...(r.structuredContent.actions as string[]), ...extra] };
  return { ...r, structuredContent: sc, content: [{ type: 'text', text: JSON.stringify(sc) }] };
};

export async function mount(html: string, first: Result): Promise<void> {
  window.hostLog = [];
  const frame = document.createElement('iframe');
  frame.id = 'view';
  frame.setAttribute('sandbox', 'allow-scripts');
  frame.width = '1100';
  frame.height = '760';
  frame.srcdoc = html;
  const bridge = new AppBridge(
    null,
    { name: 'mcp-docker test host', version: '1' },
    { serverTools: {}, logging: {} },
    { hostContext: { theme: 'light', displayMode: 'inline' } },
  );
  bridge.oncalltool = async (params) => {
    window.hostLog.push(`call ${params.name}`);
    const r = await window.mcpCall(params.name, (params.arguments ?? {}) as Record<string, unknown>);
    return relay(params.name, r) as never;
  };
  const initialized = new Promise<void>((resolve) => {
    bridge.oninitialized = () => resolve();
  });
  document.body.append(frame);
  // Listening before the page runs: the view's ui/initialize is its first script's first message.
  // (contentWindow is the frame's WindowProxy: the same object once srcdoc has loaded.)
  const win = frame.contentWindow as Window;
  await bridge.connect(new PostMessageTransport(win, win));
  await initialized;
  window.setTheme = (theme) => bridge.setHostContext({ theme, displayMode: 'inline' });
  await bridge.sendToolInput({ arguments: {} });
  await bridge.sendToolResult(relay('docker_dashboard', first) as never);
}

(window as unknown as { mount: typeof mount }).mount = mount;
