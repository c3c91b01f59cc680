/**
 * `mcp-docker hash-token`: makes a bearer token and the hash the auth file stores. With input on
 * stdin (piped, or `--stdin`) it hashes that token instead. The token is never a command-line
 * argument: arguments show in `ps` and shell history.
 */
import { randomBytes } from 'node:crypto';
import { hashToken } from '../transport/http/token.ts';

const USAGE =
  'pipe an existing token in instead, e.g. printf %s "$TOKEN" | mcp-docker hash-token, or run \'mcp-docker hash-token\' alone to make a new one';

/** The token read from stdin, without the line ending an `echo` adds. */
async function readStdin(): Promise<string> {
  const text = await Bun.stdin.text();
  return text.replace(/\r?\n$/, '');
}

export async function run(argv: string[]): Promise<number> {
  const explicit = argv.includes('--stdin');
  const rest = argv.filter((a) => a !== '--stdin');
  if (rest.length > 0) {
    process.stderr.write(
      `mcp-docker hash-token: not taking '${rest.length === 1 ? 'that argument' : 'those arguments'}': a token on the command line is visible to other users (ps) and kept in shell history; ${USAGE}\n`,
    );
    return 2;
  }
  const piped = explicit || !process.stdin.isTTY ? await readStdin() : '';
  if (piped !== '') {
    if (/\s/.test(piped)) {
      process.stderr.write(
        'mcp-docker hash-token: the token on stdin contains spaces or line breaks; send only the token\n',
      );
      return 2;
    }
    process.stdout.write(`${hashToken(piped)}\n`);
    return 0;
  }
  if (explicit) {
    process.stderr.write(
      'mcp-docker hash-token: nothing on stdin; send the token, or run without --stdin to make one\n',
    );
    return 2;
  }
  const token = randomBytes(32).toString('base64url');
  process.stdout.write(
    `token: ${token}\nhash:  ${hashToken(token)}\n` +
      '# Give the token to the client (Authorization: Bearer <token>) and put the hash under clients.<id>.tokens in the auth file; the token is stored nowhere else, so keep it now.\n',
  );
  return 0;
}
