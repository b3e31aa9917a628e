/**
 * A binary arithmetic coder with 32-bit bounds and 12-bit probabilities, the carry-less scheme of
 * Matt Mahoney's lpaq1 (http://mattmahoney.net/dc/#lpaq). All arithmetic is on integers below 2^53 held
 * in doubles, so encoder and decoder agree on every machine.
 *
 * Encoder and decoder share one interface, `code(p1, bit)`: the encoder codes `bit` and returns it, the
 * decoder ignores `bit` and returns the decoded one. A model written once against `BitCoder` therefore
 * runs identically on both sides, which is what keeps a decoder in step with its encoder.
 */
import { FormatError } from '../../util/errors.js';

export interface BitCoder {
  /** Codes one bit with P(bit = 1) = p1 / 4096 (1 <= p1 <= 4095); returns the bit. */
  code(p1: number, bit: number): number;
}

export class BitEncoder implements BitCoder {
  private x1 = 0;
  private x2 = 0xffffffff;
  private buf: Uint8Array;
  private pos = 0;

  constructor(initialCapacity = 4096) {
    this.buf = new Uint8Array(initialCapacity);
  }

  code(p1: number, bit: number): number {
    const x1 = this.x1;
    const xmid = x1 + ((this.x2 - x1) >>> 12) * p1;
    if (bit) this.x2 = xmid;
    else this.x1 = xmid + 1;
    while (((this.x1 ^ this.x2) & 0xff000000) === 0) {
      this.put(this.x2 >>> 24);
      this.x1 = (this.x1 << 8) >>> 0;
      this.x2 = ((this.x2 << 8) | 255) >>> 0;
    }
    return bit;
  }

  private put(b: number): void {
    if (this.pos === this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.pos++] = b;
  }

  /** Bytes written so far plus the flush; the encoder must not be used afterwards. */
  finish(): Uint8Array {
    // x1's top byte plus one: any value in [x1, x2] decodes the same, and the decoder reads zeros past the end.
    const x = this.x1 + 0xffffff;
    this.put(x >= 0x100000000 ? 255 : x >>> 24);
    return this.buf.slice(0, this.pos);
  }
}

export class BitDecoder implements BitCoder {
  private x1 = 0;
  private x2 = 0xffffffff;
  private x = 0;
  private pos: number;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
    private readonly name = 'archive',
  ) {
    this.pos = start;
    for (let i = 0; i < 4; i++) this.x = this.x * 256 + this.next();
  }

  private next(): number {
    // Reading past the payload means the archive was cut or crafted: the flush always writes 4 bytes.
    if (this.pos >= this.end) {
      this.pos++;
      if (this.pos > this.end + 4)
        throw new FormatError(`${this.name}: coded data ends early (truncated or damaged)`, { subject: this.name });
      return 0;
    }
    return this.buf[this.pos++]!;
  }

  code(p1: number, _bit: number): number {
    const x1 = this.x1;
    const xmid = x1 + ((this.x2 - x1) >>> 12) * p1;
    const bit = this.x <= xmid ? 1 : 0;
    if (bit) this.x2 = xmid;
    else this.x1 = xmid + 1;
    while (((this.x1 ^ this.x2) & 0xff000000) === 0) {
      this.x1 = (this.x1 << 8) >>> 0;
      this.x2 = ((this.x2 << 8) | 255) >>> 0;
      this.x = ((this.x << 8) | this.next()) >>> 0;
    }
    return bit;
  }

  /** Bytes consumed (for checking that a stream ended where its table said). */
  get consumed(): number {
    return this.pos;
  }
}
