/**
 * Opens a dataset file, checks everything outside the data region (header, footer, schema, table and
 * every row's offsets and metadata) against the file, and serves O(1) random access: a sample's blob
 * references come from the in-memory table, its bytes from one positional read.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { crc32c } from '../util/crc32c.js';
import { ChecksumError, ConfigError, FormatError, NotFoundError } from '../util/errors.js';
import {
  BLOB_REF_BYTES,
  checkHeader,
  FOOTER_BYTES,
  HEADER_BYTES,
  META_BYTES,
  parseFooter,
  parseSchema,
  readMeta,
  rowSizeOf,
  type Footer,
  type Schema,
} from './format.js';
import { allocArray, type DecodedValue, type Field } from './fields/field.js';
import { fieldFromSchema } from './fields/index.js';

export interface BlobRef {
  offset: number;
  length: number;
  crc: number;
}

function readExact(fd: number, pos: number, len: number, file: string): Uint8Array {
  const b = new Uint8Array(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, b, got, len - got, pos + got);
    if (n === 0)
      throw new FormatError(`${file}: unexpected end of file at byte ${pos + got} (wanted ${len} bytes at ${pos}); the file is truncated`, {
        subject: file,
      });
    got += n;
  }
  return b;
}

export class DatasetReader {
  readonly schema: Schema;
  readonly fields: Field[];
  readonly numSamples: number;
  readonly size: number;
  private readonly fd: number;
  private readonly table: Uint8Array;
  private readonly tdv: DataView;
  private readonly footer: Footer;
  /** Byte offset of each field's blob reference inside a row. */
  private readonly fieldAt: number[];
  private handle: Promise<FileHandle> | undefined;

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
    const size = fstatSync(fd).size;
    this.size = size;
    if (size < HEADER_BYTES + FOOTER_BYTES)
      throw new FormatError(
        `${path}: ${size} bytes is too short for a wavelm dataset (header and footer alone are ${HEADER_BYTES + FOOTER_BYTES}); ` +
          'the file is truncated or its writer died',
        { subject: path },
      );
    checkHeader(readExact(fd, 0, HEADER_BYTES, path), path);
    this.footer = parseFooter(readExact(fd, size - FOOTER_BYTES, FOOTER_BYTES, path), size, path);
    const f = this.footer;
    this.schema = parseSchema(readExact(fd, f.schemaOffset, f.schemaBytes, path), f.schemaCrc, path);
    this.fields = this.schema.fields.map((sf) => fieldFromSchema(sf, path));
    if (this.fields.length === 0) throw new FormatError(`${path}: schema has no fields`, { subject: path });
    if (rowSizeOf(this.fields) !== f.rowSize)
      throw new FormatError(`${path}: row size ${f.rowSize} does not match the schema (${rowSizeOf(this.fields)})`, { subject: path });
    this.numSamples = f.numSamples;
    this.table = readExact(fd, f.tableOffset, f.numSamples * f.rowSize, path);
    if (crc32c(this.table) !== f.tableCrc)
      throw new FormatError(`${path}: sample table checksum mismatch; the file is damaged`, { subject: path });
    this.tdv = new DataView(this.table.buffer, this.table.byteOffset, this.table.byteLength);
    this.fieldAt = [];
    let at = 0;
    for (const fl of this.fields) {
      this.fieldAt.push(at);
      at += BLOB_REF_BYTES + fl.meta.reduce((a, m) => a + META_BYTES[m.type], 0);
    }
    this.checkRows();
  }

  /** Opens and validates a dataset file. */
  static open(path: string): DatasetReader {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new NotFoundError(`${path}: no such dataset file`, { subject: path, cause: e });
      throw e;
    }
    try {
      return new DatasetReader(path, fd);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  /** Blobs must tile the data region in table order, and every row's metadata must agree with its blob. */
  private checkRows(): void {
    let expect = HEADER_BYTES;
    for (let i = 0; i < this.numSamples; i++) {
      for (let k = 0; k < this.fields.length; k++) {
        const ref = this.blob(i, k);
        if (ref.offset !== expect)
          throw new FormatError(
            `${this.path}: sample ${i} field '${this.fields[k]!.name}' starts at byte ${ref.offset}, expected ${expect}; the table ` +
              'is damaged',
            { subject: this.path },
          );
        expect += ref.length;
        if (expect > this.footer.tableOffset)
          throw new FormatError(
            `${this.path}: sample ${i} field '${this.fields[k]!.name}' runs past the data region; the table is damaged`,
            { subject: this.path },
          );
        const problem = this.fields[k]!.check(this.meta(i, k), ref.length);
        if (problem)
          throw new FormatError(`${this.path}: sample ${i} field '${this.fields[k]!.name}': ${problem}; the file is damaged`, {
            subject: this.path,
          });
      }
    }
    if (expect !== this.footer.tableOffset)
      throw new FormatError(
        `${this.path}: blobs end at byte ${expect} but the data region ends at ${this.footer.tableOffset}; the file is damaged`,
        { subject: this.path },
      );
  }

  fieldIndex(name: string): number {
    const k = this.fields.findIndex((f) => f.name === name);
    if (k < 0)
      throw new NotFoundError(`${this.path}: no field '${name}' (fields: ${this.fields.map((f) => f.name).join(', ')})`, { subject: name });
    return k;
  }

  private checkIndex(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.numSamples)
      throw new NotFoundError(`${this.path}: sample ${i} is out of range (0..${this.numSamples - 1})`, { subject: this.path });
  }

  blob(i: number, k: number): BlobRef {
    const at = i * this.footer.rowSize + this.fieldAt[k]!;
    return {
      offset: Number(this.tdv.getBigUint64(at, true)),
      length: this.tdv.getUint32(at + 8, true),
      crc: this.tdv.getUint32(at + 12, true),
    };
  }

  /** The blob's offset only (the hot path of the loader: no object allocation). */
  blobOffset(i: number, k: number): number {
    const at = i * this.footer.rowSize + this.fieldAt[k]!;
    return this.tdv.getUint32(at, true) + this.tdv.getUint32(at + 4, true) * 4294967296;
  }

  blobLength(i: number, k: number): number {
    return this.tdv.getUint32(i * this.footer.rowSize + this.fieldAt[k]! + 8, true);
  }

  blobCrc(i: number, k: number): number {
    return this.tdv.getUint32(i * this.footer.rowSize + this.fieldAt[k]! + 12, true);
  }

  meta(i: number, k: number): number[] {
    const f = this.fields[k]!;
    let at = i * this.footer.rowSize + this.fieldAt[k]! + BLOB_REF_BYTES;
    const out: number[] = [];
    for (const m of f.meta) {
      out.push(readMeta(this.tdv, at, m.type));
      at += META_BYTES[m.type];
    }
    return out;
  }

  /** Reads bytes [offset, offset+length) synchronously. */
  readRange(offset: number, length: number): Uint8Array {
    if (offset < HEADER_BYTES || offset + length > this.footer.tableOffset)
      throw new FormatError(`${this.path}: read [${offset}, +${length}) lies outside the data region`, { subject: this.path });
    return readExact(this.fd, offset, length, this.path);
  }

  /** Synchronous positional read into `into` at `at`: for page-cached data far cheaper than a thread-pool round trip. */
  readIntoSync(into: Uint8Array, at: number, offset: number, length: number): void {
    if (offset < HEADER_BYTES || offset + length > this.footer.tableOffset)
      throw new FormatError(`${this.path}: read [${offset}, +${length}) lies outside the data region`, { subject: this.path });
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd, into, at + got, length - got, offset + got);
      if (n === 0)
        throw new FormatError(`${this.path}: unexpected end of file at byte ${offset + got}; the file was truncated while open`, {
          subject: this.path,
        });
      got += n;
    }
  }

  /** Async positional read into `into` at `at` (the loader's path: it does not block the event loop). */
  async readInto(into: Uint8Array, at: number, offset: number, length: number): Promise<void> {
    if (offset < HEADER_BYTES || offset + length > this.footer.tableOffset)
      throw new FormatError(`${this.path}: read [${offset}, +${length}) lies outside the data region`, { subject: this.path });
    this.handle ??= open(this.path, 'r');
    const h = await this.handle;
    let got = 0;
    while (got < length) {
      const { bytesRead } = await h.read(into, at + got, length - got, offset + got);
      if (bytesRead === 0)
        throw new FormatError(`${this.path}: unexpected end of file at byte ${offset + got}; the file was truncated while open`, {
          subject: this.path,
        });
      got += bytesRead;
    }
  }

  /** Checks a blob's bytes against its stored CRC-32C. */
  checkBlob(i: number, k: number, bytes: Uint8Array): void {
    const want = this.blobCrc(i, k);
    const got = crc32c(bytes);
    if (got !== want)
      throw new ChecksumError(
        `${this.path}: sample ${i} field '${this.fields[k]!.name}' failed its checksum (stored ${want.toString(16)}, computed ` +
          `${got.toString(16)}); the file is damaged, run 'wavelm dataset verify'`,
        { subject: this.path },
      );
  }

  private checkedBits: Uint8Array | undefined;

  /** Checks a blob the first time this reader sees it; later reads of the same blob skip the CRC. */
  checkBlobOnce(i: number, k: number, bytes: Uint8Array): void {
    const bit = i * this.fields.length + k;
    this.checkedBits ??= new Uint8Array(Math.ceil((this.numSamples * this.fields.length) / 8));
    if (this.checkedBits[bit >> 3]! & (1 << (bit & 7))) return;
    this.checkBlob(i, k, bytes);
    this.checkedBits[bit >> 3]! |= 1 << (bit & 7);
  }

  /** Reads one field of one sample's bytes, checksum-checked. */
  readBlob(i: number, k: number, verify = true): Uint8Array {
    this.checkIndex(i);
    const ref = this.blob(i, k);
    const b = ref.length === 0 ? new Uint8Array(0) : this.readRange(ref.offset, ref.length);
    if (verify) this.checkBlob(i, k, b);
    return b;
  }

  /** Decodes one sample, all fields or the named ones. */
  async get(i: number, fields?: string[]): Promise<Record<string, DecodedValue>> {
    this.checkIndex(i);
    const out: Record<string, DecodedValue> = {};
    const ks = fields ? fields.map((n) => this.fieldIndex(n)) : this.fields.map((_, k) => k);
    for (const k of ks) out[this.fields[k]!.name] = await this.fields[k]!.decode(this.readBlob(i, k), this.meta(i, k));
    return out;
  }

  /**
   * A time window [start, start + length) of one array field of sample i (samples for audio, frames for
   * mel and codec tokens), as [inner..., length]. Raw waveforms read only the window's bytes (not
   * checksum-checked, as a partial blob cannot be); other fields decode the sample and cut the window.
   */
  async getWindow(i: number, field: string, start: number, length: number): Promise<DecodedValue> {
    this.checkIndex(i);
    const k = this.fieldIndex(field);
    const f = this.fields[k]!;
    if (!f.layout || !f.decodeInto || !f.timeLength)
      throw new ConfigError(`${this.path}: field '${field}' has no time axis to take a window of`, { subject: field });
    if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0)
      throw new ConfigError(`${this.path}: window [${start}, +${length}) is not a valid range`, { subject: field });
    const meta = this.meta(i, k);
    const w = { start, length };
    const ref = this.blob(i, k);
    let bytes: Uint8Array;
    if (f.byteRange) {
      const [a, b] = f.byteRange(meta, w);
      bytes = b > a ? this.readRange(ref.offset + a, b - a) : new Uint8Array(0);
    } else bytes = this.readBlob(i, k);
    const { dtype, inner } = f.layout(meta);
    const n = Math.max(0, Math.min(length, f.timeLength(meta) - start));
    const out = {
      kind: 'array' as const,
      dtype,
      shape: [1, ...inner, n],
      data: allocArray(dtype, inner.reduce((x, y) => x * y, 1) * n),
      lengths: new Int32Array(1),
    };
    if (n > 0) await f.decodeInto(out, 0, bytes, meta, w);
    const rate = f.type === 'waveform' || f.type === 'compressed' ? meta[2] : undefined;
    return { kind: 'array', dtype, shape: [...inner, n], data: out.data, ...(rate !== undefined ? { sampleRate: rate } : {}) };
  }

  /** Seconds of audio in sample i (from the first field that knows durations), or undefined. */
  duration(i: number): number | undefined {
    for (let k = 0; k < this.fields.length; k++) {
      const f = this.fields[k]!;
      if (f.duration) return f.duration(this.meta(i, k));
    }
    return undefined;
  }

  /** Verifies every blob's checksum; returns the damaged (sample, field) pairs. */
  verify(onProgress?: (done: number) => void): { sample: number; field: string; error: string }[] {
    const bad: { sample: number; field: string; error: string }[] = [];
    // Read the data region in large pieces; blobs are contiguous in table order.
    const CHUNK = 8 << 20;
    let bufStart = 0;
    let buf: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < this.numSamples; i++) {
      for (let k = 0; k < this.fields.length; k++) {
        const ref = this.blob(i, k);
        if (ref.offset < bufStart || ref.offset + ref.length > bufStart + buf.length) {
          bufStart = ref.offset;
          buf = readExact(this.fd, ref.offset, Math.max(ref.length, Math.min(CHUNK, this.footer.tableOffset - ref.offset)), this.path);
        }
        const bytes = buf.subarray(ref.offset - bufStart, ref.offset - bufStart + ref.length);
        if (crc32c(bytes) !== ref.crc) bad.push({ sample: i, field: this.fields[k]!.name, error: 'checksum mismatch' });
      }
      onProgress?.(i + 1);
    }
    return bad;
  }

  /** Decodes every sample of every field (a deeper check than checksums: the codecs must accept the bytes). */
  async verifyDecode(onProgress?: (done: number) => void): Promise<{ sample: number; field: string; error: string }[]> {
    const bad: { sample: number; field: string; error: string }[] = [];
    for (let i = 0; i < this.numSamples; i++) {
      for (let k = 0; k < this.fields.length; k++) {
        try {
          await this.fields[k]!.decode(this.readBlob(i, k, false), this.meta(i, k));
        } catch (e) {
          bad.push({ sample: i, field: this.fields[k]!.name, error: (e as Error).message });
        }
      }
      onProgress?.(i + 1);
    }
    return bad;
  }

  async close(): Promise<void> {
    if (this.handle) {
      const h = await this.handle.catch(() => undefined);
      await h?.close();
      this.handle = undefined;
    }
    try {
      closeSync(this.fd);
    } catch {
      /* closed */
    }
  }
}
