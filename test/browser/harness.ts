/**
 * The browser side of the dashboard test: headless Chromium (Debian's) with a host page that mounts the
 * binary's ui:// view through ext-apps' AppBridge, every tool call of the view answered by the test's
 * real MCP client, every request, dialog and console line recorded. Screenshots go to a temp dir;
 * UPDATE_SCREENSHOTS=1 also copies them to docs/images/ for the README.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/client';
import { type BrowserContext, chromium, type FrameLocator, type Page } from 'playwright-core';

const CHROMIUM = process.env.MCP_DOCKER_CHROMIUM ?? '/usr/bin/chromium';
const URI = 'ui://mcp-docker/dashboard.html';
const DOCS = resolve(import.meta.dir, '../../docs/images');
export const SHOTS = mkdtempSync(join(tmpdir(), 'mcp-docker-dashboard-'));

let browser: BrowserContext | undefined;
let hostJs = '';
let profileDir = '';

/** Bundles host.ts and launches Chromium with a fresh profile and every background service off. */
export async function startBrowser(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium`);
  const built = await Bun.build({
    entrypoints: [join(import.meta.dir, 'host.ts')],
    target: 'browser',
    format: 'esm',
  });
  if (!built.success || !built.outputs[0]) throw new Error(built.logs.map(String).join('\n'));
  hostJs = (await built.outputs[0].text()).replaceAll('</script', '<\\/script');
  // A fresh profile, and every background service off: the browser itself reaches for nothing.
  profileDir = mkdtempSync(join(tmpdir(), 'mcp-docker-chromium-'));
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1140, height: 800 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function stopBrowser(): Promise<void> {
  await browser?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  console.error(`dashboard screenshots: ${SHOTS}`);
}

/** What the view's calls go through: the test's MCP client of the compiled binary. */
export type Caller = {
  callTool(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  raw: { readResource(p: { uri: string }): Promise<unknown> };
};

export interface Opened {
  page: Page;
  view: FrameLocator;
  requests: string[];
  dialogs: string[];
  console: string[];
  calls: string[];
  /** When each docker_dashboard call reached the test (ms). */
  polls: number[];
  /** Each dashboard answer's container names, sorted. */
  answers: string[][];
  /** The arguments of every call, in order. */
  args: { name: string; args: Record<string, unknown> }[];
}

export async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000) {
  const end = Date.now() + ms;
  let last: T = await probe();
  while (!ok(last)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await Bun.sleep(250);
    last = await probe();
  }
  return last;
}

/**
 * The host page with the view mounted, connected to `server`. Every network request the page or its
 * frames make is recorded by Playwright, and by the DevTools protocol's Network domain of the page and
 * of the view's own frame.
 */
export async function open(client: Caller, offerActions?: string[]): Promise<Opened> {
  if (!browser) throw new Error('startBrowser() first');
  const page = await browser.newPage();
  const o: Opened = {
    page,
    view: page.frameLocator('#view'),
    requests: [],
    dialogs: [],
    console: [],
    calls: [],
    polls: [],
    answers: [],
    args: [],
  };
  page.on('request', (r) => o.requests.push(`playwright ${r.url()}`));
  page.on('dialog', (d) => {
    o.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('console', (m) => o.console.push(m.text()));
  page.on('pageerror', (e) => o.console.push(`pageerror ${e.message}`));
  const cdp = await browser.newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.requestWillBeSent', (e) => o.requests.push(`cdp ${e.request.url}`));
  await page.exposeFunction('mcpCall', async (name: string, args: Record<string, unknown>) => {
    o.calls.push(name);
    o.args.push({ name, args });
    if (name !== 'docker_dashboard') return client.callTool(name, args);
    o.polls.push(Date.now());
    return answered(client, args, o);
  });
  const read = (await client.raw.readResource({ uri: URI })) as {
    contents: { mimeType?: string; text?: string }[];
  };
  const html = read.contents[0]?.text ?? '';
  const first = await answered(client, {}, o);
  await page.setContent(`<!doctype html><html><body><script type="module">${hostJs}</script></body></html>`);
  await page.evaluate((extra) => {
    (window as unknown as { offerActions?: string[] }).offerActions = extra;
  }, offerActions);
  await page.evaluate(
    ([h, f]) => (window as unknown as { mount(h: string, f: unknown): Promise<void> }).mount(h as string, f),
    [html, first] as const,
  );
  await o.view.locator('tr.row').first().waitFor({ timeout: 15_000 });
  // The sandboxed view runs in a process of its own (an out-of-process frame): the page's DevTools
  // session does not see its traffic, so the view's frame gets a session of its own. Playwright's
  // request events cover every frame from the start.
  const frame = page.frames().find((f) => f !== page.mainFrame());
  if (!frame) throw new Error('no view frame');
  const inView = await browser.newCDPSession(frame);
  const title = (await inView.send('Runtime.evaluate', { expression: 'document.title', returnByValue: true }))
    .result.value;
  if (title !== 'Docker dashboard') throw new Error(`the view's DevTools session is on '${title}'`);
  await inView.send('Network.enable');
  inView.on('Network.requestWillBeSent', (e) => o.requests.push(`cdp-view ${e.request.url}`));
  return o;
}

/** A docker_dashboard call, its container names recorded in `o.answers`. */
async function answered(client: Caller, args: Record<string, unknown>, o: Opened) {
  const r = await client.callTool('docker_dashboard', args);
  const rows = (r.structuredContent as { containers?: { name: string }[] } | undefined)?.containers ?? [];
  o.answers.push(rows.map((c) => c.name).sort());
  return r;
}

export async function shoot(o: Opened, name: string) {
  const path = join(SHOTS, `${name}.png`);
  // The view's content, not the empty rest of its frame.
  await o.view.locator('body').screenshot({ path });
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    mkdirSync(DOCS, { recursive: true });
    copyFileSync(path, join(DOCS, `${name}.png`));
  }
}

export const row = (o: Opened, name: string) => o.view.locator(`tr.row[data-name="${name}"]`);
