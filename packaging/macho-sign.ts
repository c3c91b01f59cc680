/**
 * Ad-hoc code signatures for the darwin binaries, written on any build host. Bun cross-compiles a darwin
 * binary by appending the program to its runtime; it signs the result again for arm64 but leaves the x64
 * runtime's own signature in place, which no longer matches the file, and macOS kills a binary whose
 * signature does not match ("killed: 9"). The build checks every Mach-O it writes and, where the
 * signature is wrong, writes a new one of the form Bun writes for arm64 and the linker writes by
 * default (`ld -adhoc_codesign`): one CodeDirectory, SHA-256 over 4 KiB pages, ad hoc and linker-signed,
 * no special slots. `codesign -s - -f` replaces it freely, as install.sh and Homebrew still do.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';

const MH_MAGIC_64 = 0xfeedfacf;
const MH_EXECUTE = 2;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const CSMAGIC_EMBEDDED_SIGNATURE = 0xfade0cc0;
const CSMAGIC_CODEDIRECTORY = 0xfade0c02;
const CSSLOT_CODEDIRECTORY = 0;
/** CodeDirectory version with the executable-segment fields; its header is 88 bytes. */
const CD_VERSION = 0x20400;
const CD_HEADER = 88;
const CS_ADHOC = 0x2;
const CS_LINKER_SIGNED = 0x20000;
const CS_EXECSEG_MAIN_BINARY = 0x1;
const HASH_SHA256 = 2;
const HASH_SIZE = 32;
const PAGE_SHIFT = 12;
const PAGE = 1 << PAGE_SHIFT;

interface Segment {
  /** Offset of the load command in the file. */
  at: number;
  fileoff: number;
  filesize: number;
}

interface Layout {
  filetype: number;
  text: Segment;
  linkedit: Segment;
  /** Offset of LC_CODE_SIGNATURE's command, and its data's offset and size. */
  sigCmd: number;
  sigOff: number;
  sigSize: number;
}

const alignUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** Whether buf starts like a 64-bit little-endian Mach-O (what Bun writes for darwin). */
export const isMachO64 = (buf: Uint8Array) =>
  buf.length >= 32 && Buffer.from(buf.buffer, buf.byteOffset, 4).readUInt32LE(0) === MH_MAGIC_64;

function layout(buf: Buffer): Layout {
  if (!isMachO64(buf)) throw new Error('not a 64-bit Mach-O file');
  const filetype = buf.readUInt32LE(12);
  const ncmds = buf.readUInt32LE(16);
  let text: Segment | undefined;
  let linkedit: Segment | undefined;
  let sig: { at: number; off: number; size: number } | undefined;
  let at = 32;
  for (let i = 0; i < ncmds; i++) {
    const cmd = buf.readUInt32LE(at);
    const size = buf.readUInt32LE(at + 4);
    if (cmd === LC_SEGMENT_64) {
      const name = buf.toString('latin1', at + 8, at + 24).replace(/\0.*$/s, '');
      const seg = {
        at,
        fileoff: Number(buf.readBigUInt64LE(at + 40)),
        filesize: Number(buf.readBigUInt64LE(at + 48)),
      };
      if (name === '__TEXT') text = seg;
      if (name === '__LINKEDIT') linkedit = seg;
    } else if (cmd === LC_CODE_SIGNATURE) {
      sig = { at, off: buf.readUInt32LE(at + 8), size: buf.readUInt32LE(at + 12) };
    }
    at += size;
  }
  if (!text || !linkedit) throw new Error('no __TEXT or __LINKEDIT segment');
  if (!sig) throw new Error('no LC_CODE_SIGNATURE load command to sign into');
  return { filetype, text, linkedit, sigCmd: sig.at, sigOff: sig.off, sigSize: sig.size };
}

/** The SHA-256 of each 4 KiB page of buf up to limit (the last one short, as the kernel hashes it). */
function pageHashes(buf: Buffer, limit: number): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 0; p < limit; p += PAGE)
    out.push(
      createHash('sha256')
        .update(buf.subarray(p, Math.min(p + PAGE, limit)))
        .digest(),
    );
  return out;
}

/**
 * Why the embedded signature would not pass macOS's check, or undefined when it would: the signature must
 * be the file's last bytes and the end of __LINKEDIT, and its CodeDirectory must cover every byte before
 * it, each page's hash matching.
 */
export function signatureProblem(buf: Buffer): string | undefined {
  let l: Layout;
  try {
    l = layout(buf);
  } catch (e) {
    return (e as Error).message;
  }
  const linkeditEnd = l.linkedit.fileoff + l.linkedit.filesize;
  if (l.sigOff + l.sigSize > buf.length) return 'the signature runs past the end of the file';
  if (linkeditEnd !== buf.length) return `__LINKEDIT ends at ${linkeditEnd}, the file at ${buf.length}`;
  const blob = buf.subarray(l.sigOff, l.sigOff + l.sigSize);
  if (blob.length < 12 || blob.readUInt32BE(0) !== CSMAGIC_EMBEDDED_SIGNATURE) return 'no signature blob';
  const count = blob.readUInt32BE(8);
  let cd: Buffer | undefined;
  for (let i = 0; i < count; i++) {
    if (blob.readUInt32BE(12 + 8 * i) !== CSSLOT_CODEDIRECTORY) continue;
    const off = blob.readUInt32BE(16 + 8 * i);
    cd = blob.subarray(off, off + blob.readUInt32BE(off + 4));
  }
  if (!cd || cd.readUInt32BE(0) !== CSMAGIC_CODEDIRECTORY) return 'no CodeDirectory';
  const hashOffset = cd.readUInt32BE(16);
  const nCodeSlots = cd.readUInt32BE(28);
  const codeLimit = cd.readUInt32BE(32);
  const [hashSize, hashType, , pageShift] = [cd[36], cd[37], cd[38], cd[39]];
  if (hashType !== HASH_SHA256 || hashSize !== HASH_SIZE || pageShift !== PAGE_SHIFT)
    return `hash type ${hashType}, size ${hashSize}, page 2^${pageShift}: only SHA-256 over 4 KiB pages is checked`;
  if (codeLimit !== l.sigOff) return `it covers ${codeLimit} bytes, the code is ${l.sigOff}`;
  const hashes = pageHashes(buf, codeLimit);
  if (nCodeSlots !== hashes.length) return `${nCodeSlots} page hashes for ${hashes.length} pages`;
  const bad = hashes.filter(
    (h, p) => !h.equals(cd.subarray(hashOffset + p * HASH_SIZE, hashOffset + (p + 1) * HASH_SIZE)),
  );
  return bad.length ? `${bad.length} of ${hashes.length} page hashes do not match` : undefined;
}

/**
 * buf with its signature replaced by an ad-hoc one named `identifier`. The new signature goes where the old
 * one began (the file's end), and __LINKEDIT and LC_CODE_SIGNATURE are sized to hold it.
 */
export function signAdHoc(buf: Buffer, identifier: string): Buffer {
  const l = layout(buf);
  if (l.linkedit.fileoff + l.linkedit.filesize !== buf.length || l.sigOff < l.linkedit.fileoff)
    throw new Error('the signature is not at the end of __LINKEDIT and of the file');
  if (l.sigOff % 16 !== 0) throw new Error(`the signature offset ${l.sigOff} is not 16-byte aligned`);
  const ident = Buffer.from(`${identifier}\0`, 'utf8');
  const nPages = Math.ceil(l.sigOff / PAGE);
  const cdLength = CD_HEADER + ident.length + nPages * HASH_SIZE;
  const superLength = 12 + 8 + cdLength;
  const dataSize = alignUp(superLength, 16);
  const out = Buffer.alloc(l.sigOff + dataSize);
  buf.copy(out, 0, 0, l.sigOff);
  // The load commands first: the hashes cover them.
  out.writeUInt32LE(dataSize, l.sigCmd + 12);
  const linkeditSize = l.sigOff + dataSize - l.linkedit.fileoff;
  out.writeBigUInt64LE(BigInt(alignUp(linkeditSize, PAGE)), l.linkedit.at + 32); // vmsize
  out.writeBigUInt64LE(BigInt(linkeditSize), l.linkedit.at + 48); // filesize
  let at = l.sigOff;
  const u32 = (v: number) => {
    out.writeUInt32BE(v, at);
    at += 4;
  };
  const u64 = (v: number) => {
    out.writeBigUInt64BE(BigInt(v), at);
    at += 8;
  };
  u32(CSMAGIC_EMBEDDED_SIGNATURE);
  u32(superLength);
  u32(1);
  u32(CSSLOT_CODEDIRECTORY);
  u32(20);
  u32(CSMAGIC_CODEDIRECTORY);
  u32(cdLength);
  u32(CD_VERSION);
  u32(CS_ADHOC | CS_LINKER_SIGNED);
  u32(CD_HEADER + ident.length); // hashOffset
  u32(CD_HEADER); // identOffset
  u32(0); // nSpecialSlots
  u32(nPages);
  u32(l.sigOff); // codeLimit
  out.writeUInt8(HASH_SIZE, at);
  out.writeUInt8(HASH_SHA256, at + 1);
  out.writeUInt8(0, at + 2); // platform
  out.writeUInt8(PAGE_SHIFT, at + 3);
  at += 4;
  u32(0); // spare2
  u32(0); // scatterOffset
  u32(0); // teamOffset
  u32(0); // spare3
  u64(0); // codeLimit64
  u64(l.text.fileoff); // execSegBase
  u64(l.text.filesize); // execSegLimit
  u64(l.filetype === MH_EXECUTE ? CS_EXECSEG_MAIN_BINARY : 0);
  at += ident.copy(out, at);
  for (const h of pageHashes(out, l.sigOff)) at += h.copy(out, at);
  return out;
}

/**
 * Signs a darwin binary again when its signature would not pass (darwin-x64 from Bun), and checks the
 * result. Returns what was wrong, or undefined when the signature was already good or the file is no
 * Mach-O (ELF, PE). Throws if the new signature does not check out.
 */
export function ensureValidSignature(file: string, identifier = 'mcp-docker'): string | undefined {
  const head = Buffer.alloc(32);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 32, 0);
  } finally {
    closeSync(fd);
  }
  if (!isMachO64(head)) return undefined;
  const buf = readFileSync(file);
  const problem = signatureProblem(buf);
  if (problem === undefined) return undefined;
  const signed = signAdHoc(buf, identifier);
  const still = signatureProblem(signed);
  if (still !== undefined) throw new Error(`${file}: the new ad-hoc signature does not check: ${still}`);
  writeFileSync(file, signed);
  return problem;
}
