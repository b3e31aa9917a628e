/**
 * Writes one dataset file: blobs are appended to the data region as samples arrive, the sample table
 * is kept in memory, and close() writes table, schema and finally the footer with its commit marker.
 * A writer that dies before close() leaves a file without the marker, which readers reject by name.
 */
import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { crc32c } from '../util/crc32c.js';
import { ConfigError } from '../util/errors.js';
import {
  BLOB_REF_BYTES,
  checkMetaValue,
  encodeFooter,
  encodeHeader,
  encodeSchema,
  FORMAT_MAJOR,
  HEADER_BYTES,
  rowSizeOf,
  writeMeta,
  type Schema,
} from './format.js';
import type { Encoded, Field } from './fields/field.js';

export interface WriterOptions {
  /** Facts to keep in the schema (source, shard plan, tool version). */
  metadata?: Record<string, unknown>;
  /** fsync before the commit marker and after it (default true), so a crash cannot leave a marker over missing data. */
  sync?: boolean;
}

const FLUSH_BYTES = 4 << 20;

export class DatasetWriter {
  private fd: number;
  private pos = HEADER_BYTES;
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private rows: Uint8Array[] = [];
  private closed = false;
  readonly rowSize: number;

  constructor(
    readonly path: string,
    readonly fields: Field[],
    private readonly opts: WriterOptions = {},
  ) {
    if (fields.length === 0) throw new ConfigError('a dataset needs at least one field');
    const names = new Set<string>();
    for (const f of fields) {
      if (names.has(f.name)) throw new ConfigError(`field name '${f.name}' is used twice`, { subject: f.name });
      names.add(f.name);
    }
    this.rowSize = rowSizeOf(fields);
    this.fd = openSync(path, 'w');
    writeSync(this.fd, encodeHeader(), 0, HEADER_BYTES, 0);
  }

  get numSamples(): number {
    return this.rows.length;
  }

  /** Appends one sample: one Encoded per field, in field order. */
  add(encoded: Encoded[]): number {
    if (this.closed) throw new ConfigError(`${this.path}: writer is closed`);
    if (encoded.length !== this.fields.length)
      throw new ConfigError(`${this.path}: sample has ${encoded.length} fields, the schema ${this.fields.length}`);
    const row = new Uint8Array(this.rowSize);
    const dv = new DataView(row.buffer);
    let at = 0;
    for (let i = 0; i < this.fields.length; i++) {
      const f = this.fields[i]!;
      const e = encoded[i]!;
      if (e.bytes.length > 0xffffffff)
        throw new ConfigError(
          `field '${f.name}': a blob of ${e.bytes.length} bytes exceeds the 4 GiB limit per sample and field; split the recording ` +
            '(segmentSeconds)',
          { options: ['segmentSeconds'] },
        );
      if (e.meta.length !== f.meta.length)
        throw new ConfigError(`field '${f.name}': encoder gave ${e.meta.length} metadata values, expected ${f.meta.length}`);
      dv.setBigUint64(at, BigInt(this.pos), true);
      dv.setUint32(at + 8, e.bytes.length, true);
      dv.setUint32(at + 12, crc32c(e.bytes), true);
      at += BLOB_REF_BYTES;
      for (let k = 0; k < f.meta.length; k++) {
        checkMetaValue(f.name, f.meta[k]!, e.meta[k]!);
        at = writeMeta(dv, at, f.meta[k]!.type, e.meta[k]!);
      }
      this.append(e.bytes);
    }
    this.rows.push(row);
    return this.rows.length - 1;
  }

  private append(b: Uint8Array): void {
    if (b.length === 0) return;
    this.pending.push(b);
    this.pendingBytes += b.length;
    this.pos += b.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const buf = Buffer.concat(this.pending);
    writeSync(this.fd, buf, 0, buf.length, this.pos - buf.length);
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Writes table, schema and footer; the file is readable only after this. */
  close(): { path: string; numSamples: number; bytes: number } {
    if (this.closed) throw new ConfigError(`${this.path}: writer is already closed`);
    this.flush();
    const tableOffset = this.pos;
    const table = new Uint8Array(this.rows.length * this.rowSize);
    this.rows.forEach((r, i) => {
      table.set(r, i * this.rowSize);
    });
    const schema: Schema = {
      format: 'wavelm-dataset',
      version: FORMAT_MAJOR,
      fields: this.fields.map((f) => ({ name: f.name, type: f.type, args: f.args, meta: f.meta })),
      metadata: this.opts.metadata ?? {},
    };
    const sbytes = encodeSchema(schema);
    const schemaOffset = tableOffset + table.length;
    writeSync(this.fd, table, 0, table.length, tableOffset);
    writeSync(this.fd, sbytes, 0, sbytes.length, schemaOffset);
    const footer = encodeFooter({
      dataStart: HEADER_BYTES,
      tableOffset,
      numSamples: this.rows.length,
      rowSize: this.rowSize,
      tableCrc: crc32c(table),
      schemaOffset,
      schemaBytes: sbytes.length,
      schemaCrc: crc32c(sbytes),
    });
    const sync = this.opts.sync ?? true;
    if (sync) fsyncSync(this.fd);
    writeSync(this.fd, footer, 0, footer.length, schemaOffset + sbytes.length);
    if (sync) fsyncSync(this.fd);
    closeSync(this.fd);
    this.closed = true;
    return { path: this.path, numSamples: this.rows.length, bytes: schemaOffset + sbytes.length + footer.length };
  }

  /** Closes the file without committing it: removed, or with `keep` left unreadable (no commit marker). */
  abort(keep = false): void {
    if (this.closed) return;
    this.closed = true;
    try {
      closeSync(this.fd);
      if (!keep) unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}
