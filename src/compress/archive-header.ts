/**
 * The fixed part of a .wlm archive's header as one table of fields: writing and reading both walk it, so
 * the two cannot disagree on an offset. docs/compression.md shows the same table with offsets
 * (test/compress/archive-header.test.ts checks that they match).
 */
import { FormatError } from '../util/errors.js';

type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'bytes4' | 'sha256';

const SIZE_OF: Record<FieldKind, number> = { u8: 1, u16: 2, u32: 4, u64: 8, bytes4: 4, sha256: 32 };

/** Field order is byte order. Reserved fields are written as 0 and not read back. */
export const ARCHIVE_HEADER_FIELDS = [
  { name: 'magic', kind: 'bytes4' },
  { name: 'version', kind: 'u16' },
  { name: 'flags', kind: 'u16' },
  { name: 'weightsSha256', kind: 'sha256' },
  { name: 'configSha256', kind: 'sha256' },
  { name: 'originalSha256', kind: 'sha256' },
  { name: 'originalSize', kind: 'u64' },
  { name: 'inputKind', kind: 'u8' },
  { name: 'tokenMode', kind: 'u8' },
  { name: 'coder', kind: 'u8' },
  { name: 'bitsPerSample', kind: 'u8' },
  { name: 'vocabSize', kind: 'u32' },
  { name: 'chunkLength', kind: 'u32' },
  { name: 'channels', kind: 'u16' },
  { name: 'reserved', kind: 'u16' },
  { name: 'sampleRate', kind: 'u32' },
  { name: 'codedFrames', kind: 'u64' },
  { name: 'dataOffset', kind: 'u32' },
  { name: 'suffixLength', kind: 'u32' },
] as const satisfies readonly { name: string; kind: FieldKind }[];

type Field = (typeof ARCHIVE_HEADER_FIELDS)[number];
type ValueOf<K extends FieldKind> = K extends 'bytes4' | 'sha256' ? Uint8Array : number;
type ReservedName = 'flags' | 'reserved';

/** The fixed header's values, named as in the table (reserved fields left out). */
export type ArchiveHeader = { [F in Field as Exclude<F['name'], ReservedName>]: ValueOf<F['kind']> };

/** Byte offset of each field, from the table. */
export const ARCHIVE_HEADER_OFFSETS: Readonly<Record<Field['name'], number>> = (() => {
  const offsets = {} as Record<Field['name'], number>;
  let at = 0;
  for (const f of ARCHIVE_HEADER_FIELDS) {
    offsets[f.name] = at;
    at += SIZE_OF[f.kind];
  }
  return offsets;
})();

/** Bytes in the fixed header (148 in version 3). */
export const ARCHIVE_HEADER_BYTES = ARCHIVE_HEADER_FIELDS.reduce((n, f) => n + SIZE_OF[f.kind], 0);

const isReserved = (name: Field['name']): name is ReservedName => name === 'flags' || name === 'reserved';

function writeField(dv: DataView, at: number, kind: FieldKind, value: number | Uint8Array, name: string): void {
  if (value instanceof Uint8Array) {
    if (value.length !== SIZE_OF[kind])
      throw new RangeError(`archive header field ${name} takes ${SIZE_OF[kind]} bytes, got ${value.length}`);
    new Uint8Array(dv.buffer, dv.byteOffset + at, value.length).set(value);
    return;
  }
  if (kind === 'u8') dv.setUint8(at, value);
  else if (kind === 'u16') dv.setUint16(at, value, true);
  else if (kind === 'u32') dv.setUint32(at, value, true);
  else dv.setBigUint64(at, BigInt(value), true);
}

function readField(dv: DataView, at: number, kind: FieldKind): number | Uint8Array {
  if (kind === 'bytes4' || kind === 'sha256') return new Uint8Array(dv.buffer, dv.byteOffset + at, SIZE_OF[kind]);
  if (kind === 'u8') return dv.getUint8(at);
  if (kind === 'u16') return dv.getUint16(at, true);
  if (kind === 'u32') return dv.getUint32(at, true);
  return Number(dv.getBigUint64(at, true));
}

/** Writes the fixed header at the start of `out` (which must hold ARCHIVE_HEADER_BYTES bytes). */
export function writeArchiveHeader(out: Uint8Array, header: ArchiveHeader): void {
  const dv = new DataView(out.buffer, out.byteOffset, ARCHIVE_HEADER_BYTES);
  const values: Record<string, number | Uint8Array> = header;
  for (const f of ARCHIVE_HEADER_FIELDS) {
    writeField(dv, ARCHIVE_HEADER_OFFSETS[f.name], f.kind, isReserved(f.name) ? 0 : values[f.name]!, f.name);
  }
}

/** Reads the fixed header; the caller checks the values. Byte fields are views into `archive`. */
export function readArchiveHeader(archive: Uint8Array, name: string): ArchiveHeader {
  if (archive.length < ARCHIVE_HEADER_BYTES) {
    throw new FormatError(`${name}: ${archive.length} bytes is shorter than a .wlm header (${ARCHIVE_HEADER_BYTES})`, { subject: name });
  }
  const dv = new DataView(archive.buffer, archive.byteOffset, ARCHIVE_HEADER_BYTES);
  const values: Record<string, number | Uint8Array> = {};
  for (const f of ARCHIVE_HEADER_FIELDS) {
    if (!isReserved(f.name)) values[f.name] = readField(dv, ARCHIVE_HEADER_OFFSETS[f.name], f.kind);
  }
  return values as ArchiveHeader;
}
