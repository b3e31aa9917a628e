/**
 * Little-endian byte writing and bounds-checked reading for archive headers. Every read checks that the
 * bytes are there, and `length(limit)` checks a declared size against what the buffer still holds before
 * anyone allocates for it.
 */
import { FormatError } from './errors.js';

export class ByteWriter {
  private buf = new Uint8Array(256);
  private pos = 0;

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }
  u8(v: number): this {
    this.room(1);
    this.buf[this.pos++] = v & 255;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    for (let i = 0; i < 4; i++) this.buf[this.pos++] = (v >>> (8 * i)) & 255;
    return this;
  }
  /** Unsigned LEB128 of a non-negative integer below 2^53. */
  varint(v: number): this {
    let x = v;
    while (x >= 128) {
      this.u8((x % 128) | 128);
      x = Math.floor(x / 128);
    }
    return this.u8(x);
  }
  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  get length(): number {
    return this.pos;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export class ByteReader {
  pos: number;
  constructor(
    private readonly buf: Uint8Array,
    private readonly name: string,
    start = 0,
  ) {
    this.pos = start;
  }
  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length)
      throw new FormatError(`${this.name}: ${what} runs past the end of the file (truncated or not a wavelm archive)`, {
        subject: this.name,
      });
  }
  u8(what = 'a header field'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }
  u32(what = 'a header field'): number {
    this.need(4, what);
    let v = 0;
    for (let i = 3; i >= 0; i--) v = v * 256 + this.buf[this.pos + i]!;
    this.pos += 4;
    return v;
  }
  varint(what = 'a header field', max = Number.MAX_SAFE_INTEGER): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8(what);
      v += (b & 127) * scale;
      if (b < 128) {
        if (v > max) throw new FormatError(`${this.name}: ${what} is ${v}, more than ${max}`, { subject: this.name });
        return v;
      }
      scale *= 128;
    }
    throw new FormatError(`${this.name}: ${what} is not a valid number`, { subject: this.name });
  }
  /** A length field, checked against the bytes left before anything is allocated for it. */
  length(what: string): number {
    return this.varint(what, this.remaining);
  }
  bytes(n: number, what = 'a header field'): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }
}
