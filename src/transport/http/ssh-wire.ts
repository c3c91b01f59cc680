/**
 * The SSH wire encoding (RFC 4251 strings and mpints) and public key blobs turned into node KeyObjects,
 * so SSH keys verify with node:crypto alone (no dependency on a transitive SSH library).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';

/** Reads RFC 4251 `string` fields one after another; throws on a short buffer. */
export class WireReader {
  private offset = 0;
  constructor(private readonly buf: Buffer) {}

  bytes(n: number): Buffer {
    if (n < 0 || this.offset + n > this.buf.length) throw new Error('truncated SSH data');
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  uint32(): number {
    return this.bytes(4).readUInt32BE(0);
  }
  string(): Buffer {
    return this.bytes(this.uint32());
  }
  text(): string {
    return this.string().toString('latin1');
  }
  get done(): boolean {
    return this.offset === this.buf.length;
  }
}

/** RFC 4251 `string`: uint32 length then the bytes. */
export function wireString(data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** An mpint without its sign byte, left-padded to `size` bytes (for ECDSA r||s and JWK coordinates). */
export function unsignedFixed(mpint: Buffer, size: number): Buffer {
  let start = 0;
  while (start < mpint.length - 1 && mpint[start] === 0) start++;
  const body = mpint.subarray(start);
  if (body.length > size) throw new Error('integer too large');
  return Buffer.concat([Buffer.alloc(size - body.length), body]);
}

const b64url = (b: Buffer) => b.toString('base64url');
const stripZeros = (b: Buffer) => unsignedFixed(b, b.length);

export const EC_CURVES = {
  'ecdsa-sha2-nistp256': { crv: 'P-256', size: 32, hash: 'sha256' },
  'ecdsa-sha2-nistp384': { crv: 'P-384', size: 48, hash: 'sha384' },
  'ecdsa-sha2-nistp521': { crv: 'P-521', size: 66, hash: 'sha512' },
} as const;

export type SshKeyType = 'ssh-ed25519' | 'ssh-rsa' | keyof typeof EC_CURVES;

export const isSshKeyType = (t: string): t is SshKeyType =>
  t === 'ssh-ed25519' || t === 'ssh-rsa' || t in EC_CURVES;

/** Smallest RSA modulus we accept; shorter keys are skipped with a log line. */
const MIN_RSA_BITS = 2048;

/** A public key blob (the base64 field of an authorized_keys line) as a KeyObject; throws with a reason. */
export function publicKeyFromBlob(blob: Buffer): { type: SshKeyType; key: KeyObject } {
  const r = new WireReader(blob);
  const type = r.text();
  if (type === 'ssh-ed25519') {
    const pk = r.string();
    if (pk.length !== 32) throw new Error('bad ed25519 key length');
    return {
      type,
      key: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(pk) }, format: 'jwk' }),
    };
  }
  if (type === 'ssh-rsa') {
    const e = stripZeros(r.string());
    const n = stripZeros(r.string());
    if (n.length * 8 < MIN_RSA_BITS) throw new Error(`RSA key shorter than ${MIN_RSA_BITS} bits`);
    return { type, key: createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' }) };
  }
  if (type in EC_CURVES) {
    const curve = EC_CURVES[type as keyof typeof EC_CURVES];
    r.string(); // curve name, implied by the type
    const q = r.string();
    if (q[0] !== 4 || q.length !== 1 + 2 * curve.size) throw new Error('unsupported EC point encoding');
    const x = q.subarray(1, 1 + curve.size);
    const y = q.subarray(1 + curve.size);
    const jwk = { kty: 'EC', crv: curve.crv, x: b64url(x), y: b64url(y) };
    return { type: type as SshKeyType, key: createPublicKey({ key: jwk, format: 'jwk' }) };
  }
  throw new Error(`unsupported key type ${type.slice(0, 40)}`);
}
