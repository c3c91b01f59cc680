// The Bun floor: a compiled program that answers each JSON-RPC request line with one result line
// and does only the work no stdio server can skip. Its start-up time, RSS and round trip are what any
// compiled Bun stdio server pays at minimum.
//
// As an MCP server (what bench/floor-gap.ts drives with the v1 SDK client) it answers initialize,
// lists two tools without output schemas, and serves docker_list_containers and
// docker_inspect_container: read the line, fetch the Engine API path over the socket, shape the same
// compact rows mcp-docker shows (the same functions), write the answer. No validation, gate, policy,
// redaction, fence or cap. The engine socket is DOCKER_HOST's. Stdin and stdout are Bun's own stream
// and writer: Node's process.stdin and process.stdout load its stream machinery (~4.5 MiB of peak RSS
// here, bench/changes.md), which no server needs.
//
// Without a tool name (bench/run.ts's per-call series), `params.pad: N` asks for a result carrying N
// bytes of text, so a round trip can be sized like a real server's reply; `params.get: PATH` (with
// `params.socket`) makes it fetch that Engine API path and answer with the body.
import { containerRow, inspectSummary } from '../src/docker/containers.ts';

const out = Bun.stdout.writer();

type Params = {
  pad?: number;
  get?: string;
  socket?: string;
  protocolVersion?: string;
  name?: string;
  arguments?: { container_id?: string; filters?: Record<string, string[]>; all?: boolean };
};

const SOCKET = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');
const TOOLS = {
  tools: [
    {
      name: 'docker_list_containers',
      description: 'List containers, one compact row each.',
      inputSchema: { type: 'object', properties: { all: { type: 'boolean' }, filters: { type: 'object' } } },
    },
    {
      name: 'docker_inspect_container',
      description: "A container's state, image, command, ports, mounts, networks and limits.",
      inputSchema: { type: 'object', properties: { container_id: { type: 'string' } } },
    },
  ],
};

async function engine(path: string, socket = SOCKET): Promise<unknown> {
  const res = await fetch(`http://localhost/v1.41${path}`, { unix: socket });
  if (!res.ok) throw new Error(`engine: ${res.status} ${(await res.text()).trim()}`);
  return res.json();
}

async function callTool(p: Params): Promise<unknown> {
  const args = p.arguments ?? {};
  if (p.name === 'docker_list_containers') {
    const q = new URLSearchParams();
    if (args.all) q.set('all', '1');
    if (args.filters) q.set('filters', JSON.stringify(args.filters));
    const rows = (await engine(`/containers/json?${q}`)) as Parameters<typeof containerRow>[0][];
    const containers = rows.map(containerRow);
    return { content: [{ type: 'text', text: JSON.stringify({ containers, count: containers.length }) }] };
  }
  if (p.name === 'docker_inspect_container') {
    const info = (await engine(
      `/containers/${encodeURIComponent(args.container_id ?? '')}/json`,
    )) as Parameters<typeof inspectSummary>[0];
    return { content: [{ type: 'text', text: JSON.stringify(inspectSummary(info)) }] };
  }
  let text = 'x'.repeat(p.pad ?? 0);
  if (p.get) text = JSON.stringify(await engine(p.get, p.socket));
  return text ? { content: [{ type: 'text', text }] } : {};
}

async function answer(line: string): Promise<void> {
  let m: { id?: number | string; method?: string; params?: Params };
  try {
    m = JSON.parse(line);
  } catch {
    return;
  }
  if (m.id === undefined) return;
  const result =
    m.method === 'initialize'
      ? {
          protocolVersion: m.params?.protocolVersion ?? '2025-06-18',
          capabilities: { tools: {} },
          serverInfo: { name: 'bun-floor', version: '0' },
        }
      : m.method === 'tools/list'
        ? TOOLS
        : m.method === 'tools/call'
          ? await callTool(m.params ?? {}).catch((e: Error) => ({
              content: [{ type: 'text', text: e.message }],
              isError: true,
            }))
          : {};
  out.write(`${JSON.stringify({ jsonrpc: '2.0', id: m.id, result })}\n`);
  out.flush();
}

// No top-level await: the floor is compiled to CommonJS bytecode, as `bun build --compile --bytecode` does.
void (async () => {
  let buffer = '';
  const text = new TextDecoder();
  for await (const chunk of Bun.stdin.stream()) {
    buffer += text.decode(chunk, { stream: true });
    let nl = buffer.indexOf('\n');
    while (nl >= 0) {
      void answer(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      nl = buffer.indexOf('\n');
    }
  }
})();
