// The Bun floor: a compiled program that answers each JSON-RPC request line with one result line
// and does nothing else. Its start-up time, RSS and round trip are what any compiled Bun stdio
// server pays at minimum. `params.pad: N` asks for a result carrying N bytes of text, so a round
// trip can be sized like a real server's reply; `params.get: PATH` (with `params.socket`) makes it
// fetch that Engine API path and answer with the body: the least a stdio server must do for a call.
let buffer = '';

async function answer(line: string): Promise<void> {
  let m: { id?: number | string; params?: { pad?: number; get?: string; socket?: string } };
  try {
    m = JSON.parse(line);
  } catch {
    return;
  }
  if (m.id === undefined) return;
  let text = 'x'.repeat(m.params?.pad ?? 0);
  if (m.params?.get) {
    const res = await fetch(`http://localhost/v1.41${m.params.get}`, { unix: m.params.socket });
    text = JSON.stringify(JSON.parse(await res.text()));
  }
  const result = text ? { content: [{ type: 'text', text }] } : {};
  process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: m.id, result })}\n`);
}

process.stdin.on('data', (chunk: Buffer) => {
  buffer += chunk.toString();
  let nl = buffer.indexOf('\n');
  while (nl >= 0) {
    void answer(buffer.slice(0, nl));
    buffer = buffer.slice(nl + 1);
    nl = buffer.indexOf('\n');
  }
});
