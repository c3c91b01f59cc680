/**
 * Client side of mcp-docker's SSH-signed requests, self-contained (node:crypto + ssh2 to read OpenSSH
 * private keys). Every request needs a fresh header (the nonce is single-use), so wrap `fetch`:
 *
 *   import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
 *   import { signedFetch } from './ssh-sign.ts';
 *   const fetch = signedFetch({ keyFile: `${process.env.HOME}/.ssh/id_ed25519`, clientId: 'monitor' });
 *   await new Client({ name: 'me', version: '1' }).connect(
 *     new StreamableHTTPClientTransport(new URL('https://docker-mcp.example:8000/mcp'), { fetch }));
 *
 * Or print one header (valid for the server's window, ±300 s by default, and for one request):
 *   bun examples/ssh-sign.ts ~/.ssh/id_ed25519 monitor
 *   curl -H "Authorization: $(bun examples/ssh-sign.ts ~/.ssh/id_ed25519 monitor)" https://…/mcp …
 *
 * Format: Authorization: Signature keyId="<client id>",ts="<unix seconds>",nonce="<base64url>",sig="<SSHSIG>"
 * where the SSHSIG (as `ssh-keygen -Y sign -n mcp-docker` makes it) signs `client_id|ts|nonce`.
 */
import { createHash, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { utils } from 'ssh2';

export interface SignOptions {
  /** OpenSSH (or PEM) private key file: ed25519, rsa or ecdsa. */
  keyFile: string;
  passphrase?: string;
  clientId: string;
  /** RSA keys only: rsa-sha2-512 (default) or rsa-sha2-256. */
  rsaAlgorithm?: 'rsa-sha2-512' | 'rsa-sha2-256';
}

const str = (b: Buffer | string) => {
  const body = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
};
/** Two's-complement mpint: strip leading zeros, add one back when the top bit is set. */
const mpint = (b: Buffer) => {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return str((v[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
};

/** Returns a function that makes a fresh header value for each request. */
export function sshSigner(o: SignOptions): () => string {
  const parsed = utils.parseKey(readFileSync(o.keyFile), o.passphrase);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key || key instanceof Error) throw new Error(`cannot read ${o.keyFile}: ${key?.message ?? 'no key'}`);
  const pem = key.getPrivatePEM();
  const pub = key.getPublicSSH();
  const namespace = 'mcp-docker';

  return () => {
    const ts = Math.floor(Date.now() / 1000);
    const nonce = randomBytes(16).toString('base64url');
    const message = `${o.clientId}|${ts}|${nonce}`;
    const toSign = Buffer.concat([
      Buffer.from('SSHSIG'),
      str(namespace),
      str(''),
      str('sha512'),
      str(createHash('sha512').update(message).digest()),
    ]);
    let alg: string;
    let raw: Buffer;
    if (key.type === 'ssh-ed25519') {
      alg = 'ssh-ed25519';
      raw = sign(null, toSign, pem);
    } else if (key.type === 'ssh-rsa') {
      alg = o.rsaAlgorithm ?? 'rsa-sha2-512';
      raw = sign(alg === 'rsa-sha2-256' ? 'sha256' : 'sha512', toSign, pem);
    } else {
      alg = key.type;
      const hash = { 'ecdsa-sha2-nistp256': 'sha256', 'ecdsa-sha2-nistp384': 'sha384' }[alg] ?? 'sha512';
      const rs = sign(hash, toSign, { key: pem, dsaEncoding: 'ieee-p1363' });
      raw = Buffer.concat([mpint(rs.subarray(0, rs.length / 2)), mpint(rs.subarray(rs.length / 2))]);
    }
    const sshsig = Buffer.concat([
      Buffer.from('SSHSIG'),
      Buffer.from([0, 0, 0, 1]),
      str(pub),
      str(namespace),
      str(''),
      str('sha512'),
      str(Buffer.concat([str(alg), str(raw)])),
    ]);
    return `Signature keyId="${o.clientId}",ts="${ts}",nonce="${nonce}",sig="${sshsig.toString('base64')}"`;
  };
}

/** `fetch` that signs every request; pass it as the MCP client transport's `fetch` option. */
export function signedFetch(o: SignOptions, base: typeof fetch = fetch): typeof fetch {
  const header = sshSigner(o);
  const wrapped = (input: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    headers.set('authorization', header());
    return base(input, { ...init, headers });
  };
  return Object.assign(wrapped, { preconnect: base.preconnect }) as typeof fetch;
}

if (import.meta.main) {
  const [keyFile, clientId] = process.argv.slice(2);
  if (!keyFile || !clientId) {
    process.stderr.write('usage: bun examples/ssh-sign.ts <private-key-file> <client-id>\n');
    process.exit(2);
  }
  process.stdout.write(`${sshSigner({ keyFile, clientId })()}\n`);
}
