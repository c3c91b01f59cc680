/**
 * The dashboard's MCP App view in a real browser: headless Chromium (Debian's) loads a host page that
 * embeds the view through the extension's own host bridge; the bridge's tool calls go to a real MCP
 * client connected to the compiled binary on the test engine. Nothing is mocked: the HTML is the
 * binary's ui:// resource and every row, sample and action comes from the engine.
 *
 * The engine is the test's own (demo-engine.ts), so the rows and screenshots are exactly its demo.
 * Screenshots go to a temp dir; UPDATE_SCREENSHOTS=1 also copies them to docs/images/ for the README.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer } from '../helpers/client.ts';
import { type AskingClient, askingClient, type UserAnswer } from '../helpers/elicit.ts';
import {
  type DemoEngine,
  HOSTILE_LINES,
  HOSTILE_PROJECT,
  HOSTILE_SERVICE,
  makeDemo,
  NAMES,
  PROJECT,
  startDemoEngine,
} from './demo-engine.ts';
import { type Opened, open, row, shoot, startBrowser, stopBrowser, until } from './harness.ts';

let demo: DemoEngine;
/** The demo's container ids by role (busy, stopped, hostile). */
let ids: Record<string, string>;
const servers: { close(): Promise<unknown> }[] = [];
const configDir = mkdtempSync(join(tmpdir(), 'mcpt-dash-config-'));

async function startedAt(id: string): Promise<string> {
  return (await demo.docker.getContainer(id).inspect()).State.StartedAt;
}

/** The compiled binary on the demo engine, with a plain client. */
async function serve(args: string[] = []): Promise<RunningServer> {
  const server = await startServer({ args, env: demo.env });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  demo = await startDemoEngine();
  ids = await makeDemo(demo, (await serve()).client);
  await startBrowser();
}, 120_000);

afterAll(async () => {
  await stopBrowser();
  await Promise.all(servers.map((s) => s.close()));
  await demo?.dispose();
  rmSync(configDir, { recursive: true, force: true });
}, 60_000);

describe('the docker_dashboard view in Chromium', () => {
  let o: Opened;

  it('shows one row per container of the engine, with its image, state and health', async () => {
    const server = await serve();
    o = await open(server.client);
    const all = Object.values(NAMES).sort();
    expect(await demo.names()).toEqual(all);
    // Exactly the demo: the private engine holds nothing else.
    await until(
      'the rows',
      async () =>
        o.view
          .locator('tr.row')
          .evaluateAll((trs) => trs.map((t) => (t as HTMLElement).dataset.name ?? '').sort()),
      (shown) => JSON.stringify(shown) === JSON.stringify(all),
    );
    expect(o.answers.at(-1)).toEqual(all);
    const info = await demo.docker.getContainer(ids.busy as string).inspect();
    expect(await row(o, NAMES.busy).locator('td.image').textContent()).toBe(info.Config.Image);
    expect(await row(o, NAMES.busy).locator('td.state').textContent()).toBe('running');
    expect(await row(o, NAMES.stopped).locator('td.state').textContent()).toBe('exited');
    expect(await o.view.locator('p.summary').textContent()).toMatch(/containers running/);
    // The Compose project is one group, its services named in their rows.
    const group = o.view.locator('tr.group td', { hasText: PROJECT });
    expect(await group.textContent()).toBe(`${PROJECT} · 2/2 running`);
    expect(await row(o, NAMES.web).locator('td.name').textContent()).toBe(`${NAMES.web} (web)`);
    // Health as the engine reports it, once the first checks have run (the next poll shows it).
    for (const name of [NAMES.web, NAMES.db])
      await until(
        `the health check of ${name}`,
        async () => row(o, name).locator('td.health').textContent(),
        (t) => t === 'healthy',
      );
    expect(await row(o, NAMES.busy).locator('td.health').textContent()).toBe('');
    expect(await row(o, NAMES.web).locator('td.ports').textContent()).toMatch(/^127\.0\.0\.1:\d+->80\/tcp$/);
  });

  it('moves the CPU and memory sparklines with each stats update (one dashboard call per 5 s)', async () => {
    const spark = row(o, NAMES.busy).locator('td.cpu svg');
    const before = {
      n: Number(await spark.getAttribute('data-samples')),
      points: await spark.locator('polyline').getAttribute('points'),
    };
    const after = await until(
      'a second stats sample',
      async () => ({
        n: Number(await spark.getAttribute('data-samples')),
        points: await spark.locator('polyline').getAttribute('points'),
      }),
      (v) => v.n > before.n,
    );
    expect(after.points).not.toBe(before.points);
    expect(await row(o, NAMES.busy).locator('td.mem svg').getAttribute('data-samples')).toBe(String(after.n));
    // The view polls with ONE call (every container sampled in it), and no faster than every 5 s.
    expect(o.calls.every((c) => c === 'docker_dashboard')).toBe(true);
    expect(o.polls.length).toBeGreaterThanOrEqual(1);
    await until(
      'a second poll',
      async () => o.polls.length,
      (n) => n >= 2,
    );
    const gaps = o.polls.slice(1).map((t, i) => t - (o.polls[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(4900);
    await shoot(o, 'dashboard');
  });

  it('restarts a container when its Restart button is clicked, through an ordinary tool call', async () => {
    const was = await startedAt(ids.busy as string);
    await row(o, NAMES.busy).locator('button[data-action="restart"]').click();
    await until(
      'the container to restart',
      () => startedAt(ids.busy as string),
      (s) => s !== was,
    );
    expect(o.calls).toContain('docker_restart_container');
    await until(
      'the view to say it is done',
      async () => o.view.locator('#status').textContent(),
      (t) => /restart .* done/.test(t ?? ''),
    );
    // Done, the buttons work again (they were off while the call ran).
    expect(await row(o, NAMES.busy).locator('button[data-action="restart"]').isEnabled()).toBe(true);
  });

  it('shows hostile Compose labels and log lines as text, running none of them', async () => {
    const group = o.view.locator('tr.group td', { hasText: 'onerror' });
    expect(await group.textContent()).toContain(HOSTILE_PROJECT);
    expect(await row(o, NAMES.hostile).locator('td.name').textContent()).toContain(HOSTILE_SERVICE);
    await row(o, NAMES.hostile).locator('td.name').click();
    const log = o.view.locator('#log-text');
    await until(
      'the log pane',
      async () => log.textContent(),
      (t) => (t ?? '').includes('xss-log'),
    );
    const text = (await log.textContent()) ?? '';
    for (const line of HOSTILE_LINES) expect(text).toContain(line);
    // As text, not as elements: the view holds no img and no script but its own bundle.
    expect(await o.view.locator('img').count()).toBe(0);
    expect(await o.view.locator('svg[onload]').count()).toBe(0);
    expect(await o.view.locator('script').count()).toBe(1);
    await Bun.sleep(500);
    expect(o.dialogs).toEqual([]);
    expect(o.console.filter((m) => /xss|alert|Refused to/.test(m))).toEqual([]);
    await shoot(o, 'dashboard-logs');
  });

  it("follows the host's theme, and its changes", async () => {
    const background = () =>
      o.view.locator('body').evaluate((b) => getComputedStyle(b as HTMLElement).backgroundColor);
    expect(await background()).toBe('rgb(255, 255, 255)');
    await o.page.evaluate(() => window.setTheme?.('dark'));
    await until('the dark theme', background, (c) => c === 'rgb(22, 24, 28)');
    expect(await o.view.locator('html').getAttribute('data-theme')).toBe('dark');
    await o.page.evaluate(() => window.setTheme?.('light'));
    await until('the light theme again', background, (c) => c === 'rgb(255, 255, 255)');
  });

  it('makes no network request outside the bridge', async () => {
    expect(o.requests).toEqual([]);
    // The recorders do see a request, and the console listener a script that runs, when there is one:
    // made here by the test itself, from the host page and from inside the view's frame.
    const control = 'http://127.0.0.1:9/control';
    await o.page.evaluate((url) => fetch(url).catch(() => undefined), control);
    const frame = o.page.frames().find((f) => f !== o.page.mainFrame());
    await frame?.evaluate(() => console.log('control-in-view'));
    await until(
      'the control request',
      async () => o.requests,
      (r) => r.length >= 2,
    );
    expect([...o.requests].sort()).toEqual([`cdp ${control}`, `playwright ${control}`]);
    expect(o.console).toContain('control-in-view');
    // The view's CSP stops any fetch from inside it before the network, but not a navigation of the
    // frame itself: the view's own DevTools session sees that one (this ends the view).
    const away = 'http://127.0.0.1:9/control-view';
    await frame?.evaluate((url) => {
      location.href = url;
    }, away);
    await until(
      "the view's control request",
      async () => o.requests,
      (r) => r.includes(`cdp-view ${away}`),
    );
  });
});

describe('the view under --read-only', () => {
  it('offers no restart, and the server refuses one the view was told it could make', async () => {
    const server = await serve(['--read-only']);
    const plain = await server.client.callTool('docker_dashboard', {});
    const actions = (plain.structuredContent as { actions: string[] }).actions;
    expect(actions).toEqual(['docker_container_logs']);

    // A stale or tampered view: the host adds restart to what the view is told.
    const o = await open(server.client, ['docker_restart_container']);
    const was = await startedAt(ids.busy as string);
    await row(o, NAMES.busy).locator('button[data-action="restart"]').click();
    const said = await until(
      'the refusal',
      async () => o.view.locator('#status').textContent(),
      (t) => /policy_denied/.test(t ?? ''),
    );
    expect(said).toMatch(/read-only/);
    await Bun.sleep(1000);
    expect(await startedAt(ids.busy as string)).toBe(was);
    expect(o.requests).toEqual([]);
    await shoot(o, 'dashboard-read-only');
  });
});

describe('the view over a capped list', () => {
  it('says how many containers it shows of how many the engine has', async () => {
    const server = await serve(['--max-list-results', '2']);
    const o = await open(server.client);
    expect(await o.view.locator('tr.row').count()).toBe(2);
    const all = (await demo.names()).length;
    expect(await o.view.locator('p.summary').textContent()).toContain(`showing 2 of ${all}`);
  });
});

describe('the view with several engines', () => {
  it('picks the engine, and names it in every call it makes', async () => {
    const config = join(configDir, 'engines.json');
    writeFileSync(config, JSON.stringify({ engines: { one: demo.entry, two: demo.entry } }));
    const server = await serve(['--config', config]);
    const o = await open(server.client);
    const pick = o.view.locator('select#engine');
    expect(
      await pick.locator('option').evaluateAll((os) => os.map((x) => (x as HTMLOptionElement).value)),
    ).toEqual(['one', 'two']);
    expect(await pick.inputValue()).toBe('one');
    const before = o.args.length;
    await pick.selectOption('two');
    await until(
      'a call after picking',
      async () => o.args.length,
      (n) => n > before,
    );
    expect(o.args[before]).toEqual({ name: 'docker_dashboard', args: { engine: 'two' } });
    await row(o, NAMES.busy).locator('td.name').click();
    await until(
      'the logs call',
      async () => o.args.map((a) => a.name),
      (n) => n.includes('docker_container_logs'),
    );
    const logs = o.args.find((a) => a.name === 'docker_container_logs');
    expect(logs?.args).toMatchObject({ container_id: expect.any(String), engine: 'two' });
    expect(await pick.inputValue()).toBe('two');
    expect(o.requests).toEqual([]);
  });
});

describe('Remove under --confirm destructive', () => {
  let user: AskingClient;
  let answer: UserAnswer = 'decline';

  beforeAll(async () => {
    user = await askingClient({
      kind: 'v2',
      args: ['--allow-destructive', '--confirm', 'destructive'],
      env: demo.env,
      answer: () => answer,
    });
    servers.push(user);
  });

  it('asks the user through the host: declined keeps the container and says so, accepted removes it', async () => {
    const o = await open(user);
    const remove = row(o, NAMES.stopped).locator('button[data-action="remove"]');
    answer = 'decline';
    await remove.click();
    const said = await until(
      'the declined message',
      async () => o.view.locator('#status').textContent(),
      (t) => /declined/.test(t ?? ''),
    );
    expect(said).toBe(`remove ${NAMES.stopped}: cancelled: the user declined; nothing changed`);
    expect(o.calls).toContain('docker_remove_container');
    expect(user.asked).toHaveLength(1);
    expect(user.asked[0]?.message).toContain(NAMES.stopped);
    expect(await demo.names()).toContain(NAMES.stopped);
    await until(
      'the row after the refresh',
      async () => row(o, NAMES.stopped).count(),
      (n) => n === 1,
    );
    await shoot(o, 'dashboard-confirm-declined');

    // Accepted, the same click removes it: gone from the engine and from the rows.
    answer = 'accept';
    await remove.click();
    await until(
      'the container to go',
      () => demo.names(),
      (names) => !names.includes(NAMES.stopped),
    );
    expect(user.asked).toHaveLength(2);
    await until(
      'the view to say it is done',
      async () => o.view.locator('#status').textContent(),
      (t) => t === `remove ${NAMES.stopped}: done`,
    );
    await until(
      'the row to go',
      async () => row(o, NAMES.stopped).count(),
      (n) => n === 0,
    );
    expect(o.requests).toEqual([]);
    expect(o.dialogs).toEqual([]);
  });
});
