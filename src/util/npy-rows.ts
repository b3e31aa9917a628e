/**
 * A .npy file written row by row when the number of rows is known only at the end: the header is
 * written first with room for the first dimension to grow and rewritten in place on close, so the
 * file is never copied and stays a valid array (of the rows written so far) even after an error.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { BufferedWriter } from './buffered-writer.js';
import { NotFoundError } from './errors.js';
import { npyHeader } from './npy.js';

/** Digits the row count may grow to (numpy's GROWTH_AXIS_MAX_DIGITS). */
const GROWTH_DIGITS = 21;

/** Little-endian element types a row writer takes: their dtype strings and sizes. */
export const NPY_ROW_DTYPES = { uint8: ['|u1', 1], int16: ['<i2', 2], uint16: ['<u2', 2] } as const;
export type NpyRowDtype = keyof typeof NPY_ROW_DTYPES;

export class NpyRowWriter {
  readonly rowBytes: number;
  private fd: number;
  private readonly out: BufferedWriter;
  private bytes = 0;
  private readonly headerBytes: number;

  /** Creates (or truncates) `path` for rows of shape `rowShape` of `dtype`, stored little-endian. */
  constructor(
    readonly path: string,
    readonly dtype: NpyRowDtype,
    readonly rowShape: readonly number[],
  ) {
    this.rowBytes = rowShape.reduce((a, b) => a * b, 1) * NPY_ROW_DTYPES[dtype][1];
    try {
      this.fd = openSync(path, 'w');
    } catch (err) {
      throw new NotFoundError(`${path}: cannot write the output file (${(err as NodeJS.ErrnoException).code ?? String(err)})`, {
        subject: path,
        cause: err,
      });
    }
    const header = this.header(0);
    this.headerBytes = header.length;
    writeSync(this.fd, header);
    this.out = new BufferedWriter(this.fd);
  }

  /** Rows written so far. */
  get rows(): number {
    return this.bytes / this.rowBytes;
  }

  /** Appends whole rows, given as their little-endian bytes (one or more rows per buffer). */
  append(buffers: readonly Uint8Array[]): void {
    let n = 0;
    for (const b of buffers) n += b.length;
    if (n % this.rowBytes !== 0) throw new Error(`${this.path}: ${n} bytes are not whole rows of ${this.rowBytes} bytes`);
    this.out.writeAll(buffers);
    this.bytes += n;
  }

  /** Writes the final row count into the header and closes the file. Safe to call twice. */
  close(): void {
    if (this.fd < 0) return;
    try {
      this.out.flush();
      const header = this.header(this.rows);
      // Cannot happen below 10^21 rows; checked because a longer header would overwrite the first row.
      if (header.length !== this.headerBytes)
        throw new Error(`${this.path}: npy header grew from ${this.headerBytes} to ${header.length} bytes`);
      writeSync(this.fd, header, 0, header.length, 0);
    } finally {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  private header(rows: number): Uint8Array {
    return npyHeader(NPY_ROW_DTYPES[this.dtype][0], [rows, ...this.rowShape], GROWTH_DIGITS);
  }
}
