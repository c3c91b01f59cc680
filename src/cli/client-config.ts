/** `mcp-docker config`: not built yet (placeholder so the command table type-checks). */
export async function run(): Promise<number> {
  process.stderr.write('mcp-docker: this command is not available yet\n');
  return 1;
}
