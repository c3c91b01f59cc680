// The Bun floor: a compiled program that answers each JSON-RPC request line with one result line
// and does nothing else. Its start-up time, RSS and round trip are what any compiled Bun stdio
// server pays at minimum. `params.pad: N` asks for a result carrying N bytes of text, so a round
// trip can be sized like a real server's reply.
let buffer = '';
process.stdin.on('data', (chunk: Buffer) => {
  buffer += chunk.toString();
  let nl = buffer.indexOf('\n');
  while (nl >= 0) {
    const line = buffer.slice(0, nl);
    buffer = buffer.slice(nl + 1);
    nl = buffer.indexOf('\n');
    let m: { id?: number | string; params?: { pad?: number } };
    try {
      m = JSON.parse(line);
    } catch {
      continue;
    }
    if (m.id === undefined) continue;
    const pad = m.params?.pad ?? 0;
    const result = pad > 0 ? { content: [{ type: 'text', text: 'x'.repeat(pad) }] } : {};
    process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: m.id, result })}\n`);
  }
});
