/**
 * Zip archives as numpy's .npz uses them (APPNOTE.TXT, https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT):
 * members stored (np.savez) or deflated (np.savez_compressed), with ZIP64 records (numpy opens every
 * member with force_zip64). Sizes and offsets come from the central directory and are checked against
 * the buffer before use; each member's CRC-32 is verified. The writer stores members uncompressed.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { ChecksumError, FormatError, UnsupportedError } from './errors.js';

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const U32_MAX = 0xffffffff;

interface CentralEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function fail(name: string, what: string): never {
  throw new FormatError(`${name}: ${what}; the zip archive is damaged or truncated`, { subject: name });
}

function u64(dv: DataView, at: number, name: string): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(name, `a ZIP64 size of ${v} bytes`);
  return Number(v);
}

function findEndOfCentralDirectory(dv: DataView, name: string): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const lowest = Math.max(0, dv.byteLength - 22 - 0xffff);
  for (let at = dv.byteLength - 22; at >= lowest; at--) if (dv.getUint32(at, true) === EOCD_SIG) return at;
  return fail(name, 'no end-of-central-directory record');
}

/** Where the central directory starts and how many entries it holds (ZIP64 when the 32-bit fields overflow). */
function centralDirectory(dv: DataView, name: string): { offset: number; count: number } {
  const eocd = findEndOfCentralDirectory(dv, name);
  let count = dv.getUint16(eocd + 10, true);
  let offset = dv.getUint32(eocd + 16, true);
  const locator = eocd - 20;
  if (locator >= 0 && dv.getUint32(locator, true) === ZIP64_LOCATOR_SIG) {
    const at = u64(dv, locator + 8, name);
    if (at + 56 > dv.byteLength || dv.getUint32(at, true) !== ZIP64_EOCD_SIG) fail(name, 'the ZIP64 end record is missing');
    count = u64(dv, at + 32, name);
    offset = u64(dv, at + 48, name);
  }
  if (offset > dv.byteLength) fail(name, `the central directory offset ${offset} is past the end (${dv.byteLength} bytes)`);
  return { offset, count };
}

/** Replaces 0xFFFFFFFF fields by the values of the ZIP64 extra field (id 1), in APPNOTE's order. */
function applyZip64Extra(e: CentralEntry, dv: DataView, start: number, end: number, name: string): void {
  let at = start;
  while (at + 4 <= end) {
    const id = dv.getUint16(at, true);
    const len = dv.getUint16(at + 2, true);
    if (at + 4 + len > end) fail(name, `an extra field of ${e.name} runs past its entry`);
    if (id === 1) {
      let p = at + 4;
      const take = (): number => {
        if (p + 8 > at + 4 + len) fail(name, `the ZIP64 field of ${e.name} is too short`);
        const v = u64(dv, p, name);
        p += 8;
        return v;
      };
      if (e.size === U32_MAX) e.size = take();
      if (e.compressedSize === U32_MAX) e.compressedSize = take();
      if (e.localOffset === U32_MAX) e.localOffset = take();
    }
    at += 4 + len;
  }
}

function readCentralEntries(buf: Uint8Array, name: string): CentralEntry[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < 22) fail(name, `${buf.byteLength} bytes is too short for a zip archive`);
  const { offset, count } = centralDirectory(dv, name);
  const entries: CentralEntry[] = [];
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > buf.byteLength || dv.getUint32(at, true) !== CENTRAL_SIG) fail(name, `central directory entry ${i} is missing`);
    const nameLen = dv.getUint16(at + 28, true);
    const extraLen = dv.getUint16(at + 30, true);
    const commentLen = dv.getUint16(at + 32, true);
    const end = at + 46 + nameLen + extraLen + commentLen;
    if (end > buf.byteLength) fail(name, `central directory entry ${i} runs past the end`);
    const e: CentralEntry = {
      name: Buffer.from(buf.subarray(at + 46, at + 46 + nameLen)).toString('utf8'),
      flags: dv.getUint16(at + 8, true),
      method: dv.getUint16(at + 10, true),
      crc: dv.getUint32(at + 16, true),
      compressedSize: dv.getUint32(at + 20, true),
      size: dv.getUint32(at + 24, true),
      localOffset: dv.getUint32(at + 42, true),
    };
    applyZip64Extra(e, dv, at + 46 + nameLen, at + 46 + nameLen + extraLen, name);
    entries.push(e);
    at = end;
  }
  return entries;
}

/** The bytes of one member, after checking its local header, its bounds, its method and its CRC-32. */
function memberBytes(buf: Uint8Array, e: CentralEntry, name: string): Uint8Array {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const where = `${name}: member ${e.name}`;
  if (e.flags & 1) throw new UnsupportedError(`${where} is encrypted; extract it with a zip tool first`, { subject: name });
  if (e.localOffset + 30 > buf.byteLength || dv.getUint32(e.localOffset, true) !== LOCAL_SIG)
    fail(name, `the local header of ${e.name} is missing`);
  const start = e.localOffset + 30 + dv.getUint16(e.localOffset + 26, true) + dv.getUint16(e.localOffset + 28, true);
  if (start + e.compressedSize > buf.byteLength) fail(name, `${e.name} declares ${e.compressedSize} bytes, more than the file holds`);
  const raw = buf.subarray(start, start + e.compressedSize);
  let data: Uint8Array;
  if (e.method === 0) {
    if (e.compressedSize !== e.size) fail(name, `stored member ${e.name} has different sizes (${e.compressedSize} vs ${e.size})`);
    data = raw;
  } else if (e.method === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, e.size) });
    } catch (err) {
      throw new FormatError(`${where} does not inflate to its declared ${e.size} bytes`, { subject: name, cause: err });
    }
    if (data.length !== e.size) fail(name, `${e.name} inflates to ${data.length} bytes, not the declared ${e.size}`);
  } else {
    throw new UnsupportedError(
      `${where} uses compression method ${e.method}; only stored (np.savez) and deflated (np.savez_compressed) are read`,
      { subject: name },
    );
  }
  if (crc32(data) >>> 0 !== e.crc) throw new ChecksumError(`${where} fails its CRC-32 check; the file is corrupt`, { subject: name });
  return data;
}

/** Every member of a zip archive, by name, in directory order. `name` is used in error messages. */
export function readZip(buf: Uint8Array, name = 'zip data'): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const e of readCentralEntries(buf, name)) {
    if (e.name.endsWith('/')) continue;
    if (out.has(e.name)) fail(name, `member ${e.name} appears twice`);
    out.set(e.name, memberBytes(buf, e, name));
  }
  return out;
}

/** A zip archive of stored members (no compression, no ZIP64: each member and the whole stay under 4 GiB). */
export function writeZip(members: Array<[string, Uint8Array]>): Uint8Array {
  if (members.length > 0xffff) throw new UnsupportedError(`zip: ${members.length} members would need ZIP64 (at most 65535)`);
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [memberName, data] of members) {
    const nameBytes = Buffer.from(memberName, 'utf8');
    if (data.length >= U32_MAX || offset >= U32_MAX)
      throw new UnsupportedError(`zip: member ${memberName} would need ZIP64 (over 4 GiB)`, { subject: memberName });
    const crc = crc32(data) >>> 0;
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, LOCAL_SIG, true);
    local.setUint16(4, 20, true);
    local.setUint16(6, 0x800, true); // names are UTF-8
    local.setUint32(14, crc, true);
    local.setUint32(18, data.length, true);
    local.setUint32(22, data.length, true);
    local.setUint16(26, nameBytes.length, true);
    const entry = new DataView(new ArrayBuffer(46));
    entry.setUint32(0, CENTRAL_SIG, true);
    entry.setUint16(4, 20, true);
    entry.setUint16(6, 20, true);
    entry.setUint16(8, 0x800, true);
    entry.setUint32(16, crc, true);
    entry.setUint32(20, data.length, true);
    entry.setUint32(24, data.length, true);
    entry.setUint16(28, nameBytes.length, true);
    entry.setUint32(42, offset, true);
    parts.push(new Uint8Array(local.buffer), nameBytes, data);
    central.push(new Uint8Array(entry.buffer), nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const centralSize = central.reduce((s, p) => s + p.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, EOCD_SIG, true);
  end.setUint16(8, members.length, true);
  end.setUint16(10, members.length, true);
  end.setUint32(12, centralSize, true);
  end.setUint32(16, offset, true);
  return Buffer.concat([...parts, ...central, new Uint8Array(end.buffer)]);
}
