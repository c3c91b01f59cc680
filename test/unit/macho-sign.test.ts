import { afterAll, describe, expect, it } from 'bun:test';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureValidSignature, signAdHoc, signatureProblem } from '../../packaging/macho-sign.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcpt-macho-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A small executable Mach-O laid out as Bun's darwin-x64 output is: __TEXT from the start, __LINKEDIT
 * last, and LC_CODE_SIGNATURE pointing at a signature blob at the end of both. `stale` is a signature
 * made for other bytes (the runtime's own, in Bun's case): here, one CodeDirectory that covers less.
 */
function machO(textPages = 3, tail = 1000): Buffer {
  const linkeditOff = textPages * 4096;
  const sigOff = linkeditOff + tail + (16 - (tail % 16));
  const stale = Buffer.alloc(20 + 88 + 4 + 32);
  stale.writeUInt32BE(0xfade0cc0, 0);
  stale.writeUInt32BE(stale.length, 4);
  stale.writeUInt32BE(1, 8);
  stale.writeUInt32BE(0, 12);
  stale.writeUInt32BE(20, 16);
  stale.writeUInt32BE(0xfade0c02, 20);
  stale.writeUInt32BE(stale.length - 20, 24);
  stale.writeUInt32BE(20 + 88 - 20 + 4, 20 + 16); // hashOffset
  stale.writeUInt32BE(1, 20 + 28); // one page
  stale.writeUInt32BE(4096, 20 + 32); // codeLimit: the runtime's size, not this file's
  stale.set([32, 2, 0, 12], 20 + 36);
  const buf = Buffer.alloc(sigOff + stale.length, 0x5a);
  buf.writeUInt32LE(0xfeedfacf, 0);
  buf.writeUInt32LE(0x01000007, 4); // x86_64
  buf.writeUInt32LE(3, 8);
  buf.writeUInt32LE(2, 12); // MH_EXECUTE
  buf.writeUInt32LE(3, 16);
  buf.writeUInt32LE(72 + 72 + 16, 20);
  buf.writeUInt32LE(0, 24);
  buf.writeUInt32LE(0, 28);
  const segment = (at: number, name: string, fileoff: number, filesize: number) => {
    buf.fill(0, at, at + 72);
    buf.writeUInt32LE(0x19, at);
    buf.writeUInt32LE(72, at + 4);
    buf.write(name, at + 8, 'latin1');
    buf.writeBigUInt64LE(BigInt(0x100000000 + fileoff), at + 24);
    buf.writeBigUInt64LE(BigInt(Math.ceil(filesize / 4096) * 4096), at + 32);
    buf.writeBigUInt64LE(BigInt(fileoff), at + 40);
    buf.writeBigUInt64LE(BigInt(filesize), at + 48);
  };
  segment(32, '__TEXT', 0, linkeditOff);
  segment(104, '__LINKEDIT', linkeditOff, buf.length - linkeditOff);
  buf.writeUInt32LE(0x1d, 176);
  buf.writeUInt32LE(16, 180);
  buf.writeUInt32LE(sigOff, 184);
  buf.writeUInt32LE(stale.length, 188);
  stale.copy(buf, sigOff);
  return buf;
}

/** An independent reading of what macOS checks: every byte before the signature, hashed page by page. */
function verify(buf: Buffer) {
  const sigOff = buf.readUInt32LE(184);
  const sigSize = buf.readUInt32LE(188);
  const linkeditEnd = Number(buf.readBigUInt64LE(104 + 40) + buf.readBigUInt64LE(104 + 48));
  const cd = buf.subarray(sigOff + buf.readUInt32BE(sigOff + 16));
  const hashOffset = cd.readUInt32BE(16);
  const pages = cd.readUInt32BE(28);
  const codeLimit = cd.readUInt32BE(32);
  const hashesOk = Array.from({ length: pages }, (_, p) =>
    createHash('sha256')
      .update(buf.subarray(p * 4096, Math.min((p + 1) * 4096, codeLimit)))
      .digest()
      .equals(cd.subarray(hashOffset + p * 32, hashOffset + p * 32 + 32)),
  );
  return {
    endsFile: sigOff + sigSize === buf.length && linkeditEnd === buf.length,
    coversCode: codeLimit === sigOff && pages === Math.ceil(sigOff / 4096),
    hashesOk: hashesOk.every(Boolean),
    flags: cd.readUInt32BE(12).toString(16),
    identifier: cd.toString('utf8', cd.readUInt32BE(20), cd.indexOf(0, cd.readUInt32BE(20))),
    execSegLimit: Number(cd.readBigUInt64BE(72)),
  };
}

describe('darwin code signatures', () => {
  it('finds a signature that covers less than the file (Bun’s darwin-x64 output)', () => {
    expect(signatureProblem(machO())).toBe(`it covers 4096 bytes, the code is ${machO().readUInt32LE(184)}`);
  });

  it('signs ad hoc so that every page before the signature is hashed and the file ends with it', () => {
    const signed = signAdHoc(machO(), 'mcp-docker');
    expect(signatureProblem(signed)).toBeUndefined();
    expect(verify(signed)).toEqual({
      endsFile: true,
      coversCode: true,
      hashesOk: true,
      flags: '20002', // ad hoc, linker-signed: what Bun writes for darwin-arm64
      identifier: 'mcp-docker',
      execSegLimit: 3 * 4096,
    });
  });

  it('hashes a short last page as it is, not padded', () => {
    const signed = signAdHoc(machO(2, 37), 'x');
    expect(signed.readUInt32LE(184) % 4096).not.toBe(0);
    expect(verify(signed).hashesOk).toBe(true);
  });

  it('notices a byte changed after signing', () => {
    const signed = signAdHoc(machO(), 'mcp-docker');
    signed.writeUInt8(signed.readUInt8(5000) ^ 1, 5000);
    expect(signatureProblem(signed)).toBe('1 of 4 page hashes do not match');
  });

  it('re-signs a file in place only when its signature is wrong, and leaves other files alone', () => {
    const file = join(dir, 'mcp-docker');
    writeFileSync(file, machO());
    expect(ensureValidSignature(file)).toContain('it covers 4096 bytes');
    const once = readFileSync(file);
    expect(signatureProblem(once)).toBeUndefined();
    expect(ensureValidSignature(file)).toBeUndefined();
    expect(readFileSync(file).equals(once)).toBe(true);
    const elf = join(dir, 'elf');
    writeFileSync(elf, Buffer.from('\x7fELF\x02\x01\x01\0 not a Mach-O at all', 'latin1'));
    expect(ensureValidSignature(elf)).toBeUndefined();
  });
});
