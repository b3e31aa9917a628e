/**
 * Random-access byte sources: an in-memory buffer or an open file read with positioned reads, so
 * readers can parse headers and fetch frame ranges without loading a whole file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FormatError, NotFoundError, WavelmError } from '../util/errors.js';

export interface ByteSource {
  /** Name used in error messages (a path, or '<memory>'). */
  readonly name: string;
  readonly size: number;
  /** Bytes [offset, offset+length) clipped to the source; the result may alias internal memory. */
  read(offset: number, length: number): Uint8Array;
  /** Fills target from offset; returns the number of bytes read (short at the end of the source). */
  readInto(offset: number, target: Uint8Array): number;
  close(): void;
}

export class MemorySource implements ByteSource {
  readonly size: number;
  constructor(
    readonly bytes: Uint8Array,
    readonly name = '<memory>',
  ) {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    const start = Math.min(Math.max(0, offset), this.size);
    return this.bytes.subarray(start, Math.min(this.size, start + Math.max(0, length)));
  }
  readInto(offset: number, target: Uint8Array): number {
    const part = this.read(offset, target.length);
    target.set(part);
    return part.length;
  }
  close(): void {}
}

export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number;
  constructor(readonly name: string) {
    this.fd = openFile(name);
    try {
      const st = fstatSync(this.fd);
      if (st.isDirectory()) throw new FormatError(`${name}: is a directory, not an audio file`, { subject: name });
      this.size = st.size;
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
  }
  read(offset: number, length: number): Uint8Array {
    const n = Math.max(0, Math.min(length, this.size - offset));
    const buf = new Uint8Array(n);
    const got = this.readInto(offset, buf);
    return got === n ? buf : buf.subarray(0, got);
  }
  readInto(offset: number, target: Uint8Array): number {
    let done = 0;
    while (done < target.length) {
      const n = readSync(this.fd, target, done, target.length - done, offset + done);
      if (n <= 0) break;
      done += n;
    }
    return done;
  }
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

function openFile(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError(`${path}: no such file`, { subject: path, cause: err });
    if (code === 'EISDIR') throw new FormatError(`${path}: is a directory, not an audio file`, { subject: path, cause: err });
    throw new WavelmError('ENOENT', `${path}: cannot open (${code ?? String(err)})`, { subject: path, cause: err });
  }
}

/**
 * Reads a file into `scratch` when it fits (one open, one read, no stat): the returned source views
 * `scratch` and is valid until the scratch is reused. Bigger files come back as a FileSource.
 * For loops over many small files (the token iterator), where allocation and syscalls dominate.
 */
export function openSourceInto(path: string, scratch: Uint8Array): ByteSource {
  const fd = openFile(path);
  let n: number;
  try {
    n = readSync(fd, scratch, 0, scratch.length, 0);
  } catch (err) {
    closeSync(fd);
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') throw new FormatError(`${path}: is a directory, not an audio file`, { subject: path, cause: err });
    throw new WavelmError('EFORMAT', `${path}: cannot read (${code ?? String(err)})`, { subject: path, cause: err });
  }
  closeSync(fd);
  if (n < scratch.length) return new MemorySource(scratch.subarray(0, n), path);
  return new FileSource(path);
}

/** Reads small files whole (one syscall) and keeps big ones open for positioned reads. */
export function openSource(path: string, wholeBelow = 4 << 20): ByteSource {
  const f = new FileSource(path);
  if (f.size > wholeBelow) return f;
  try {
    const bytes = new Uint8Array(f.size);
    const n = f.readInto(0, bytes);
    return new MemorySource(n === bytes.length ? bytes : bytes.subarray(0, n), path);
  } finally {
    f.close();
  }
}
