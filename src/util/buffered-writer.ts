/**
 * Appends to an open file through a staging buffer: many small writes (a chunk per short file) become
 * one write per `capacity` bytes. Large pieces bypass the buffer. Call flush() before the file is read,
 * rewritten in place or closed.
 */
import { writeSync } from 'node:fs';

export class BufferedWriter {
  private readonly staging: Uint8Array;
  private used = 0;

  constructor(
    private readonly fd: number,
    capacity = 1 << 20,
  ) {
    this.staging = new Uint8Array(capacity);
  }

  write(bytes: Uint8Array): void {
    if (this.used + bytes.length > this.staging.length) this.flush();
    if (bytes.length >= this.staging.length) {
      writeFully(this.fd, bytes);
      return;
    }
    this.staging.set(bytes, this.used);
    this.used += bytes.length;
  }

  writeAll(pieces: readonly Uint8Array[]): void {
    for (const p of pieces) this.write(p);
  }

  flush(): void {
    if (this.used === 0) return;
    writeFully(this.fd, this.staging.subarray(0, this.used));
    this.used = 0;
  }
}

/** writeSync may write less than asked (a pipe, a full disk's last blocks): loop until done or it throws. */
function writeFully(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}
