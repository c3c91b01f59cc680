/**
 * OpenSSH's signature format (PROTOCOL.sshsig): what `ssh-keygen -Y sign` writes between its armor lines,
 * so a client can sign with a key file, an ssh-agent or our TS example alike. The namespace binds the
 * signature to this use: a signature made for git or another tool does not verify here.
 */
import { createHash, type KeyObject, verify } from 'node:crypto';
import { EC_CURVES, type SshKeyType, unsignedFixed, WireReader, wireString } from './ssh-wire.ts';

export const SSHSIG_NAMESPACE = 'mcp-docker';
const MAGIC = Buffer.from('SSHSIG');
const HASHES = new Set(['sha256', 'sha512']);

export interface SshSig {
  /** The signer's public key blob, to find it among the client's authorized keys. */
  publicKey: Buffer;
  namespace: string;
  hashAlg: string;
  /** e.g. ssh-ed25519, rsa-sha2-512, ecdsa-sha2-nistp256. */
  sigAlg: string;
  sigBlob: Buffer;
  reserved: Buffer;
}

/** Parses the base64 SSHSIG blob (armor lines and whitespace allowed); throws with a reason a client can use. */
export function parseSshSig(text: string): SshSig {
  const b64 = text.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  const r = new WireReader(Buffer.from(b64, 'base64'));
  if (!r.bytes(6).equals(MAGIC)) throw new Error('not an SSHSIG signature');
  if (r.uint32() !== 1) throw new Error('unsupported SSHSIG version');
  const publicKey = r.string();
  const namespace = r.text();
  const reserved = r.string();
  const hashAlg = r.text();
  const sig = new WireReader(r.string());
  const sigAlg = sig.text();
  const sigBlob = sig.string();
  if (!r.done || !sig.done) throw new Error('trailing bytes in SSHSIG signature');
  return { publicKey, namespace, hashAlg, sigAlg, sigBlob, reserved };
}

/** The bytes the signer actually signed: magic, namespace, reserved, hash algorithm, H(message). */
export function signedData(
  namespace: string,
  hashAlg: string,
  message: string,
  reserved: Buffer = Buffer.alloc(0),
): Buffer {
  const digest = createHash(hashAlg).update(message).digest();
  return Buffer.concat([
    MAGIC,
    wireString(namespace),
    wireString(reserved),
    wireString(hashAlg),
    wireString(digest),
  ]);
}

/**
 * True when `sig` is a valid SSHSIG over `message` in our namespace by `key` (of `keyType`). Legacy
 * `ssh-rsa` (SHA-1) signatures are refused: only rsa-sha2-256/512 for RSA keys.
 */
export function verifySshSig(sig: SshSig, message: string, key: KeyObject, keyType: SshKeyType): boolean {
  if (sig.namespace !== SSHSIG_NAMESPACE || !HASHES.has(sig.hashAlg)) return false;
  const data = signedData(sig.namespace, sig.hashAlg, message, sig.reserved);
  try {
    if (keyType === 'ssh-ed25519')
      return sig.sigAlg === 'ssh-ed25519' && verify(null, data, key, sig.sigBlob);
    if (keyType === 'ssh-rsa') {
      const hash = { 'rsa-sha2-256': 'sha256', 'rsa-sha2-512': 'sha512' }[sig.sigAlg];
      return hash !== undefined && verify(hash, data, key, sig.sigBlob);
    }
    if (sig.sigAlg !== keyType) return false;
    const curve = EC_CURVES[keyType];
    const rs = new WireReader(sig.sigBlob);
    const raw = Buffer.concat([
      unsignedFixed(rs.string(), curve.size),
      unsignedFixed(rs.string(), curve.size),
    ]);
    return verify(curve.hash, data, { key, dsaEncoding: 'ieee-p1363' }, raw);
  } catch {
    return false;
  }
}
