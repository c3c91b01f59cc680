/**
 * The docker_dashboard view (an MCP App). It draws the tool's result, asks for a fresh one every 5 s
 * while open (one call: the server samples every container at once), and sends every action back
 * through the host as an ordinary tool call, so the server's gate, guard, confirmation and audit apply.
 * It never talks to the engine, and it fetches nothing.
 */
import { App, applyDocumentTheme } from '@modelcontextprotocol/ext-apps';
import { bytes, type Dashboard, el, groupsOf, type Row, sparkline, unfenced } from './view.ts';

const POLL_MS = 5000;
const HISTORY = 30;
const LOG_LINES = 60;

const app = new App({ name: 'mcp-docker dashboard', version: '1' }, {}, { autoResize: true });

let current: Dashboard | undefined;
let engine: string | undefined;
let selected: string | undefined;
/** The action in flight: its buttons stay disabled until the call ends (a confirmation may take a while). */
let acting: string | undefined;
const history = new Map<string, { cpu: number[]; mem: number[] }>();

const root = document.getElementById('app') as HTMLElement;
const summary = el('p', 'summary', 'Waiting for the dashboard…');
const toolbar = el('div', 'toolbar');
const status = el('p', 'status');
status.id = 'status';
const table = el('table', 'rows');
const logs = el('section', 'logs');
const logHead = el('div', 'log-head');
const logTitle = el('h2', undefined, 'Logs');
const logClose = el('button', 'close', 'Close');
logClose.dataset.action = 'close-logs';
logHead.append(logTitle, logClose);
const logText = el('pre', 'log-text');
logText.id = 'log-text';
logs.append(logHead, logText);
logClose.addEventListener('click', () => {
  selected = undefined;
  logs.hidden = true;
  for (const tr of table.querySelectorAll('tr.row.selected')) tr.classList.remove('selected');
});
logs.hidden = true;
// Wide rows scroll sideways inside their own box, so the actions column never falls off the view.
const scroller = el('div', 'scroller');
scroller.append(table);
root.append(summary, toolbar, status, scroller, logs);

const say = (text: string, error = false) => {
  status.textContent = text;
  status.classList.toggle('error', error);
};

type ToolResult = {
  isError?: boolean;
  content?: { type: string; text?: string }[];
  structuredContent?: Record<string, unknown>;
};

const textOf = (r: ToolResult) =>
  (r.content ?? [])
    .map((c) => (c.type === 'text' ? (c.text ?? '') : ''))
    .join(' ')
    .trim();

/** A tool call through the host; with several engines the view's engine is named. */
async function call(name: string, args: Record<string, unknown>): Promise<ToolResult> {
  const withEngine = current?.engines && engine ? { ...args, engine } : args;
  return (await app.callServerTool({ name, arguments: withEngine })) as ToolResult;
}

function remember(d: Dashboard) {
  const seen = new Set<string>();
  for (const r of d.containers) {
    seen.add(r.id);
    if (r.cpu_percent === undefined || !r.memory) continue;
    const h = history.get(r.id) ?? { cpu: [], mem: [] };
    h.cpu = [...h.cpu, r.cpu_percent].slice(-HISTORY);
    h.mem = [...h.mem, r.memory.used].slice(-HISTORY);
    history.set(r.id, h);
  }
  for (const id of history.keys()) if (!seen.has(id)) history.delete(id);
}

function show(d: Dashboard) {
  current = d;
  engine = d.engine ?? engine;
  remember(d);
  summary.textContent = d.summary;
  drawToolbar(d);
  drawRows(d);
  if (selected && !d.containers.some((r) => r.id === selected)) {
    selected = undefined;
    logs.hidden = true;
  }
}

function drawToolbar(d: Dashboard) {
  toolbar.replaceChildren();
  if (d.engines && d.engines.length > 1) {
    const label = el('label', 'engine', 'Engine ');
    const pick = el('select');
    pick.id = 'engine';
    for (const e of d.engines) {
      const o = el('option', undefined, e.read_only ? `${e.name} (read-only)` : e.name);
      o.value = e.name;
      o.selected = e.name === engine;
      pick.append(o);
    }
    pick.addEventListener('change', () => {
      engine = pick.value;
      history.clear();
      selected = undefined;
      logs.hidden = true;
      void refresh();
    });
    label.append(pick);
    toolbar.append(label);
  }
  if (d.actions.includes('docker_prune_containers')) {
    const prune = el('button', 'danger', 'Prune stopped');
    prune.dataset.action = 'prune';
    prune.addEventListener(
      'click',
      () => void act('docker_prune_containers', {}, 'prune stopped containers'),
    );
    toolbar.append(prune);
  }
}

function cell(tr: HTMLTableRowElement, cls: string, text = '') {
  const td = el('td', cls, text);
  tr.append(td);
  return td;
}

function drawRows(d: Dashboard) {
  table.replaceChildren();
  const head = el('tr');
  for (const h of ['Name', 'Image', 'State', 'Health', 'Ports', 'CPU', 'Memory', ''])
    head.append(el('th', undefined, h));
  table.append(head);
  for (const group of groupsOf(d)) {
    if (group.title) {
      const tr = el('tr', 'group');
      const td = el('td', undefined, group.title);
      td.colSpan = 8;
      tr.append(td);
      table.append(tr);
    }
    for (const r of group.rows) table.append(rowOf(r, d.actions));
  }
  if (d.containers.length === 0) {
    const tr = el('tr', 'empty');
    const td = el('td', undefined, d.hidden ? 'No containers shown.' : 'No containers on this engine.');
    td.colSpan = 8;
    tr.append(td);
    table.append(tr);
  }
}

function rowOf(r: Row, actions: readonly string[]): HTMLTableRowElement {
  const tr = el('tr', `row ${r.state}`);
  tr.dataset.id = r.id;
  tr.dataset.name = r.name;
  tr.classList.toggle('selected', r.id === selected);
  const label = r.service ? `${r.name} (${r.service})` : r.name;
  cell(tr, 'name', label).title = label;
  cell(tr, 'image', r.image).title = r.image;
  cell(tr, 'state', r.state).title = r.status;
  cell(tr, `health ${r.health ?? ''}`, r.health ?? '');
  cell(tr, 'ports', (r.ports ?? []).join(', '));
  const h = history.get(r.id);
  const cpu = cell(tr, 'cpu', r.cpu_percent === undefined ? '' : `${r.cpu_percent.toFixed(1)} %`);
  const mem = cell(tr, 'mem', r.memory ? `${bytes(r.memory.used)}` : '');
  if (r.memory?.limit)
    mem.title = `${bytes(r.memory.used)} of ${bytes(r.memory.limit)} (${r.memory.percent.toFixed(1)} %)`;
  if (h && h.cpu.length > 0) {
    cpu.append(sparkline(h.cpu, 'cpu'));
    mem.append(sparkline(h.mem, 'mem'));
  }
  const buttons = cell(tr, 'actions');
  const running = r.state === 'running';
  const offer = (tool: string, label: string, when: boolean, cls = '') => {
    if (!when || !actions.includes(tool)) return;
    const b = el('button', cls, label);
    b.dataset.action = label.toLowerCase();
    b.disabled = acting !== undefined;
    b.addEventListener('click', (ev) => {
      ev.stopPropagation();
      void act(tool, { container_id: r.id }, `${label.toLowerCase()} ${r.name}`);
    });
    buttons.append(b);
  };
  offer('docker_start_container', 'Start', !running);
  offer('docker_stop_container', 'Stop', running);
  offer('docker_restart_container', 'Restart', running);
  offer('docker_remove_container', 'Remove', !running, 'danger');
  tr.addEventListener('click', () => select(r.id));
  return tr;
}

async function act(tool: string, args: Record<string, unknown>, what: string) {
  if (acting) return;
  acting = what;
  for (const b of root.querySelectorAll<HTMLButtonElement>('button[data-action]'))
    if (b !== logClose) b.disabled = true;
  say(`${what}…`);
  try {
    const r = await call(tool, args);
    if (r.isError) say(`${what}: ${textOf(r)}`, true);
    else say(`${what}: done`);
  } catch (e) {
    say(`${what}: ${e instanceof Error ? e.message : String(e)}`, true);
  } finally {
    acting = undefined;
    for (const b of root.querySelectorAll<HTMLButtonElement>('button[data-action]')) b.disabled = false;
  }
  await refresh(true);
}

async function select(id: string) {
  selected = id;
  for (const tr of table.querySelectorAll<HTMLTableRowElement>('tr.row'))
    tr.classList.toggle('selected', tr.dataset.id === id);
  await loadLogs();
}

async function loadLogs() {
  const id = selected;
  if (!id || !current?.actions.includes('docker_container_logs')) return;
  const name = current.containers.find((r) => r.id === id)?.name ?? id;
  logs.hidden = false;
  logTitle.textContent = `Logs: ${name}`;
  try {
    const r = await call('docker_container_logs', { container_id: id, tail: LOG_LINES });
    if (id !== selected) return;
    const lines = (r.structuredContent?.lines as string[] | undefined) ?? [];
    // Fenced text from the server, shown as text: whatever a container logged stays inert. The fence's
    // own delimiters are for the model; the pane shows the lines, newest in view unless scrolled up.
    const atEnd = logText.scrollTop + logText.clientHeight >= logText.scrollHeight - 4;
    logText.textContent = r.isError ? textOf(r) : unfenced(lines).join('\n') || '(no output)';
    if (atEnd) logText.scrollTop = logText.scrollHeight;
  } catch (e) {
    logText.textContent = e instanceof Error ? e.message : String(e);
  }
}

let busy = false;
let again = false;
/** A fresh dashboard; `soon` (after an action) runs once more when a poll was already in flight. */
async function refresh(soon = false) {
  if (busy) {
    again ||= soon;
    return;
  }
  busy = true;
  try {
    const r = await call('docker_dashboard', {});
    if (r.isError) say(textOf(r), true);
    else if (r.structuredContent) show(r.structuredContent as unknown as Dashboard);
    if (selected) await loadLogs();
  } catch (e) {
    say(e instanceof Error ? e.message : String(e), true);
  } finally {
    busy = false;
  }
  if (again) {
    again = false;
    await refresh();
  }
}

app.ontoolresult = (r) => {
  const data = (r as ToolResult).structuredContent;
  if ((r as ToolResult).isError) say(textOf(r as ToolResult), true);
  else if (data) show(data as unknown as Dashboard);
};

// The host's theme wins over the system's (a dark chat on a light desktop shows a dark view).
const theme = (t: unknown) => {
  if (t === 'light' || t === 'dark') applyDocumentTheme(t);
};
app.addEventListener('hostcontextchanged', (ctx) => theme(ctx.theme));
await app.connect();
theme(app.getHostContext()?.theme);
// While the view is open: one dashboard call (the server samples all containers in it), then 5 s of
// rest before the next, so calls are never closer than 5 s however long one takes.
const poll = async () => {
  await refresh();
  setTimeout(() => void poll(), POLL_MS);
};
// The host normally sends the tool's result right away; without it after 1 s, the view asks itself.
setTimeout(() => (current ? setTimeout(() => void poll(), POLL_MS - 1000) : void poll()), 1000);
