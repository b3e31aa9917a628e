/**
 * The wavelm dataset file (`.wlds`), byte by byte (docs/dataset.md has the full table):
 *
 *   header (64 B) | data region (blobs, back to back, in table order) | sample table | schema JSON | footer (64 B)
 *
 * The footer is written last and ends in a commit marker, so a file whose writer died is rejected by
 * name. Everything outside the data region is covered by a CRC-32C held in the header or footer, and
 * every blob has its own CRC-32C in the table. Blobs must tile the data region exactly, so every byte
 * of the file is covered by some checksum.
 */
import { crc32c } from '../util/crc32c.js';
import { FormatError } from '../util/errors.js';

export const HEADER_BYTES = 64;
export const FOOTER_BYTES = 64;
export const MAGIC = 'WAVELMDS';
export const FOOTER_MAGIC = 'WLDSINDX';
export const COMMIT_MARKER = 'CMIT';
export const FORMAT_MAJOR = 1;
export const FORMAT_MINOR = 0;
/** Bytes of the blob reference every field has in every row: offset u64, length u32, crc32c u32. */
export const BLOB_REF_BYTES = 16;

export type MetaType = 'u8' | 'u16' | 'u32' | 'i32' | 'f32' | 'f64';
export const META_BYTES: Record<MetaType, number> = { u8: 1, u16: 2, u32: 4, i32: 4, f32: 4, f64: 8 };

export interface MetaColumn {
  name: string;
  type: MetaType;
}

export interface SchemaField {
  name: string;
  type: string;
  args: Record<string, unknown>;
  meta: MetaColumn[];
}

export interface Schema {
  format: 'wavelm-dataset';
  version: number;
  fields: SchemaField[];
  /** Free-form facts about the file: the tool version, the shard plan, the source. */
  metadata: Record<string, unknown>;
}

export interface Footer {
  dataStart: number;
  tableOffset: number;
  numSamples: number;
  rowSize: number;
  tableCrc: number;
  schemaOffset: number;
  schemaBytes: number;
  schemaCrc: number;
}

const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const matches = (buf: Uint8Array, at: number, s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (buf[at + i] !== s.charCodeAt(i)) return false;
  return true;
};

function getU64(dv: DataView, at: number, what: string, file: string): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    throw new FormatError(`${file}: ${what} ${v} is out of range; the file is damaged`, { subject: file });
  return Number(v);
}

export function encodeHeader(): Uint8Array {
  const b = new Uint8Array(HEADER_BYTES);
  const dv = new DataView(b.buffer);
  b.set(ascii(MAGIC), 0);
  dv.setUint16(8, FORMAT_MAJOR, true);
  dv.setUint16(10, FORMAT_MINOR, true);
  dv.setUint32(12, HEADER_BYTES, true);
  dv.setUint32(60, crc32c(b.subarray(0, 60)), true);
  return b;
}

export function checkHeader(b: Uint8Array, file: string): { major: number; minor: number } {
  if (b.length < HEADER_BYTES || !matches(b, 0, MAGIC))
    throw new FormatError(`${file}: not a wavelm dataset (bad magic); build one with 'wavelm dataset build'`, { subject: file });
  const dv = new DataView(b.buffer, b.byteOffset, HEADER_BYTES);
  if (dv.getUint32(60, true) !== crc32c(b.subarray(0, 60)))
    throw new FormatError(`${file}: header checksum mismatch; the file is damaged`, { subject: file });
  const major = dv.getUint16(8, true);
  const minor = dv.getUint16(10, true);
  if (major !== FORMAT_MAJOR)
    throw new FormatError(
      `${file}: format version ${major}.${minor} is not supported (this wavelm reads ${FORMAT_MAJOR}.x); upgrade wavelm`,
      { subject: file },
    );
  if (dv.getUint32(12, true) !== HEADER_BYTES)
    throw new FormatError(`${file}: header size field is ${dv.getUint32(12, true)}, expected ${HEADER_BYTES}`, { subject: file });
  for (let i = 16; i < 60; i++)
    if (b[i] !== 0) throw new FormatError(`${file}: reserved header byte ${i} is not zero; the file is damaged`, { subject: file });
  return { major, minor };
}

export function encodeFooter(f: Footer): Uint8Array {
  const b = new Uint8Array(FOOTER_BYTES);
  const dv = new DataView(b.buffer);
  b.set(ascii(FOOTER_MAGIC), 0);
  dv.setBigUint64(8, BigInt(f.dataStart), true);
  dv.setBigUint64(16, BigInt(f.tableOffset), true);
  dv.setBigUint64(24, BigInt(f.numSamples), true);
  dv.setUint32(32, f.rowSize, true);
  dv.setUint32(36, f.tableCrc, true);
  dv.setBigUint64(40, BigInt(f.schemaOffset), true);
  dv.setUint32(48, f.schemaBytes, true);
  dv.setUint32(52, f.schemaCrc, true);
  dv.setUint32(56, crc32c(b.subarray(0, 56)), true);
  b.set(ascii(COMMIT_MARKER), 60);
  return b;
}

/** Parses the footer and checks that header, data, table, schema and footer tile a file of `fileSize` bytes. */
export function parseFooter(b: Uint8Array, fileSize: number, file: string): Footer {
  if (!matches(b, 60, COMMIT_MARKER)) {
    throw new FormatError(
      `${file}: no commit marker at the end: the writer did not finish (it died or the file is truncated); rebuild the file`,
      { subject: file },
    );
  }
  if (!matches(b, 0, FOOTER_MAGIC))
    throw new FormatError(`${file}: footer magic is wrong; the file is damaged or truncated`, { subject: file });
  const dv = new DataView(b.buffer, b.byteOffset, FOOTER_BYTES);
  if (dv.getUint32(56, true) !== crc32c(b.subarray(0, 56)))
    throw new FormatError(`${file}: footer checksum mismatch; the file is damaged`, { subject: file });
  const f: Footer = {
    dataStart: getU64(dv, 8, 'data start', file),
    tableOffset: getU64(dv, 16, 'table offset', file),
    numSamples: getU64(dv, 24, 'sample count', file),
    rowSize: dv.getUint32(32, true),
    tableCrc: dv.getUint32(36, true),
    schemaOffset: getU64(dv, 40, 'schema offset', file),
    schemaBytes: dv.getUint32(48, true),
    schemaCrc: dv.getUint32(52, true),
  };
  const bad = (what: string): never => {
    throw new FormatError(`${file}: ${what} (file is ${fileSize} bytes); the file is damaged`, { subject: file });
  };
  if (f.dataStart !== HEADER_BYTES) bad(`data region starts at ${f.dataStart}, expected ${HEADER_BYTES}`);
  if (f.tableOffset < f.dataStart || f.tableOffset > fileSize) bad(`sample table offset ${f.tableOffset} lies outside the file`);
  if (f.rowSize === 0 && f.numSamples > 0) bad('row size is zero');
  const tableBytes = f.numSamples * f.rowSize;
  if (!Number.isSafeInteger(tableBytes) || f.tableOffset + tableBytes !== f.schemaOffset)
    bad(`table of ${f.numSamples} rows x ${f.rowSize} B at ${f.tableOffset} does not end where the schema starts (${f.schemaOffset})`);
  if (f.schemaOffset + f.schemaBytes + FOOTER_BYTES !== fileSize)
    bad(`schema [${f.schemaOffset}, +${f.schemaBytes}) does not end at the footer`);
  return f;
}

export function encodeSchema(s: Schema): Uint8Array {
  return new Uint8Array(Buffer.from(JSON.stringify(s), 'utf8'));
}

export function parseSchema(b: Uint8Array, crc: number, file: string): Schema {
  if (crc32c(b) !== crc) throw new FormatError(`${file}: schema checksum mismatch; the file is damaged`, { subject: file });
  let s: unknown;
  try {
    s = JSON.parse(Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'));
  } catch (e) {
    throw new FormatError(`${file}: schema is not valid JSON`, { subject: file, cause: e });
  }
  const o = s as Partial<Schema>;
  if (typeof o !== 'object' || o === null || o.format !== 'wavelm-dataset' || !Array.isArray(o.fields))
    throw new FormatError(`${file}: schema is not a wavelm dataset schema`, { subject: file });
  const names = new Set<string>();
  for (const f of o.fields) {
    const sf = f as Partial<SchemaField>;
    if (
      typeof sf !== 'object' ||
      sf === null ||
      typeof sf.name !== 'string' ||
      typeof sf.type !== 'string' ||
      typeof sf.args !== 'object' ||
      sf.args === null ||
      !Array.isArray(sf.meta)
    ) {
      throw new FormatError(`${file}: schema field entry is malformed`, { subject: file });
    }
    if (names.has(sf.name)) throw new FormatError(`${file}: schema names field '${sf.name}' twice`, { subject: file });
    names.add(sf.name);
    for (const m of sf.meta) {
      const mc = m as Partial<MetaColumn>;
      if (typeof mc?.name !== 'string' || typeof mc.type !== 'string' || !(mc.type in META_BYTES))
        throw new FormatError(`${file}: field '${sf.name}' has a malformed metadata column`, { subject: file });
    }
  }
  return {
    format: 'wavelm-dataset',
    version: Number(o.version),
    fields: o.fields as SchemaField[],
    metadata: (o.metadata ?? {}) as Record<string, unknown>,
  };
}

export function metaBytes(cols: MetaColumn[]): number {
  return cols.reduce((a, c) => a + META_BYTES[c.type], 0);
}

export function rowSizeOf(fields: { meta: MetaColumn[] }[]): number {
  return fields.reduce((a, f) => a + BLOB_REF_BYTES + metaBytes(f.meta), 0);
}

export function writeMeta(dv: DataView, at: number, t: MetaType, v: number): number {
  switch (t) {
    case 'u8':
      dv.setUint8(at, v);
      break;
    case 'u16':
      dv.setUint16(at, v, true);
      break;
    case 'u32':
      dv.setUint32(at, v, true);
      break;
    case 'i32':
      dv.setInt32(at, v, true);
      break;
    case 'f32':
      dv.setFloat32(at, v, true);
      break;
    case 'f64':
      dv.setFloat64(at, v, true);
      break;
  }
  return at + META_BYTES[t];
}

export function readMeta(dv: DataView, at: number, t: MetaType): number {
  switch (t) {
    case 'u8':
      return dv.getUint8(at);
    case 'u16':
      return dv.getUint16(at, true);
    case 'u32':
      return dv.getUint32(at, true);
    case 'i32':
      return dv.getInt32(at, true);
    case 'f32':
      return dv.getFloat32(at, true);
    case 'f64':
      return dv.getFloat64(at, true);
  }
}

/** Range check for a metadata value about to be written, so a writer never stores a wrapped number. */
export function checkMetaValue(field: string, col: MetaColumn, v: number): void {
  const lim: Partial<Record<MetaType, [number, number]>> = {
    u8: [0, 255],
    u16: [0, 65535],
    u32: [0, 4294967295],
    i32: [-2147483648, 2147483647],
  };
  const r = lim[col.type];
  if (r && (!Number.isInteger(v) || v < r[0] || v > r[1]))
    throw new FormatError(`field '${field}': metadata ${col.name}=${v} does not fit ${col.type}`, { subject: field });
}
