// The Bun floor: a compiled program that answers each stdin line with one JSON-RPC result line and
// does nothing else. Its start-up time and RSS are what any compiled Bun server pays at minimum.
process.stdin.on('data', (chunk: Buffer) => {
  for (const line of chunk.toString().split('\n')) {
    const id = /"id":\s*(\d+)/.exec(line)?.[1];
    if (id) process.stdout.write(`{"jsonrpc":"2.0","id":${id},"result":{}}\n`);
  }
});
