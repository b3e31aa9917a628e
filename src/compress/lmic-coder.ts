/**
 * LMIC's arithmetic coder (google-deepmind/language_modeling_is_compression, arithmetic_coder.py with
 * base 2, precision 32) and its `normalize_pdf_for_arithmetic_coding`, reproduced bit for bit so that
 * wavelm's estimates of LM rates are the same numbers LMIC reports. It is slow (a float cumsum over the
 * alphabet per symbol, one output call per bit) and is used for evaluation and the fixture match; archives
 * use the range coder in range-coder.ts.
 *
 * The bytes depend on numpy 1.x dtype rules (see ../shared/fixtures/lmic-coder/README.md): the pdf is
 * float32 throughout normalisation, the cumulative sum in `_get_intervals` is a sequential float32 sum,
 * and the product with the integer interval width is float64, truncated toward zero. Every one of these
 * is an exactly rounded IEEE operation, which `Math.fround` and double arithmetic reproduce.
 */
import { ConfigError, FormatError } from '../util/errors.js';

const PRECISION = 32;
const BASE_TO_PM1 = 2 ** (PRECISION - 1);
const BASE_TO_PM2 = 2 ** (PRECISION - 2);
const FULL = 2 ** PRECISION;
const EPS32 = 2 ** -23;

/**
 * LMIC's normalize_pdf_for_arithmetic_coding in float32: pdf / cumsum(pdf)[-1], then
 * (1 - 2 * n * eps) * pdf + eps. Returns a new Float32Array.
 */
export function normalizePdfForArithmeticCoding(pdf: Float32Array): Float32Array {
  const n = pdf.length;
  let total = 0;
  for (let i = 0; i < n; i++) total = Math.fround(total + pdf[i]!);
  // The factor is float32 (numpy 1.x: Python int times a float32 scalar stays float32).
  const factor = Math.fround(1 - Math.fround(2 * n * EPS32));
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = Math.fround(pdf[i]! / total);
    out[i] = Math.fround(Math.fround(factor * p) + EPS32);
  }
  return out;
}

class CoderBase {
  protected low = 0;
  protected high = FULL - 1;
  protected carryDigits = 0;
  protected code = 0;
  private readonly intervals: Float64Array;

  constructor(readonly alphabetSize: number) {
    this.intervals = new Float64Array(alphabetSize + 1);
  }

  /** low + trunc(float32 cumsum(pdf with 0 prepended) * width), as LMIC's _get_intervals. */
  protected getIntervals(pdf: Float32Array): Float64Array {
    if (pdf.length !== this.alphabetSize)
      throw new ConfigError(`lmic coder: pdf has ${pdf.length} entries, the alphabet ${this.alphabetSize}`);
    const width = this.high - this.low + 1;
    const q = this.intervals;
    let c = 0;
    q[0] = this.low;
    let prev = 0;
    for (let i = 0; i < pdf.length; i++) {
      const p = pdf[i]!;
      if (!(p >= 0)) throw new ConfigError(`lmic coder: probability ${p} of symbol ${i} is negative or NaN`);
      c = Math.fround(c + p);
      const qi = Math.trunc(c * width);
      if (qi === prev) throw new ConfigError(`lmic coder: symbol ${i} has probability 0 after quantisation; normalise the pdf first`);
      prev = qi;
      q[i + 1] = this.low + qi;
    }
    if (prev > width) throw new ConfigError('lmic coder: cumulative probability exceeds 1 after quantisation; normalise the pdf first');
    return q;
  }

  protected process(pdf: Float32Array, symbol: number | undefined, io: (digit?: number) => number): number {
    const iv = this.getIntervals(pdf);
    const encoding = symbol !== undefined;
    let s: number;
    if (encoding) s = symbol;
    else {
      // searchsorted(intervals, code, side='right') - 1
      let lo = 0;
      let hi = iv.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (iv[mid]! <= this.code) lo = mid + 1;
        else hi = mid;
      }
      s = lo - 1;
      if (s < 0 || s >= this.alphabetSize) throw new FormatError('lmic coder: code word lies outside every interval (corrupt stream)');
    }
    const lowPreSplit = this.low;
    this.low = iv[s]!;
    this.high = iv[s + 1]! - 1;
    // First normalisation: emit (or consume) matching most significant digits.
    while (Math.floor(this.low / BASE_TO_PM1) === Math.floor(this.high / BASE_TO_PM1)) {
      if (encoding) {
        const lowMsd = Math.floor(this.low / BASE_TO_PM1);
        io(lowMsd);
        const carry = (1 + lowMsd - Math.floor(lowPreSplit / BASE_TO_PM1)) % 2;
        while (this.carryDigits > 0) {
          io(carry);
          this.carryDigits--;
        }
      } else {
        this.code = (this.code % BASE_TO_PM1) * 2 + io();
      }
      this.low = (this.low % BASE_TO_PM1) * 2;
      this.high = (this.high % BASE_TO_PM1) * 2 + 1;
    }
    // Second normalisation: remove the straddling prefix 0111.../1000... and count carry digits.
    const shiftKeepingMsd = (x: number): number => x - (x % BASE_TO_PM1) + (x % BASE_TO_PM2) * 2;
    while (Math.floor(this.low / BASE_TO_PM2) + 1 === Math.floor(this.high / BASE_TO_PM2)) {
      if (encoding) this.carryDigits++;
      else this.code = shiftKeepingMsd(this.code) + io();
      this.low = shiftKeepingMsd(this.low);
      this.high = shiftKeepingMsd(this.high) + 1;
    }
    return s;
  }

  /** [low, high, carry digits] after the last step, for debugging against LMIC's coder state. */
  state(): [number, number, number] {
    return [this.low, this.high, this.carryDigits];
  }
}

/** LMIC's Encoder(base=2, precision=32). Bits are collected as 0/1 bytes. */
export class LmicEncoder extends CoderBase {
  private bits: number[] = [];
  private done = false;
  private readonly out = (d?: number): number => {
    this.bits.push(d!);
    return 0;
  };

  encode(pdf: Float32Array, symbol: number): void {
    if (this.done) throw new ConfigError('lmic coder: encode after terminate');
    if (!Number.isInteger(symbol) || symbol < 0 || symbol >= this.alphabetSize)
      throw new ConfigError(`lmic coder: symbol ${symbol} is outside the alphabet of ${this.alphabetSize}`);
    this.process(pdf, symbol, this.out);
  }

  get numBits(): number {
    return this.bits.length;
  }

  /** Writes the final digit and pending carries; returns the bits ('0'/'1' per entry). */
  terminate(): Uint8Array {
    if (this.done) throw new ConfigError('lmic coder: terminate called twice');
    this.done = true;
    this.bits.push(Math.floor(this.low / BASE_TO_PM1));
    for (let i = 0; i < this.carryDigits; i++) this.bits.push(1);
    return Uint8Array.from(this.bits);
  }
}

/** LMIC's Decoder: reads bits, pads with precision-1 ones once the input runs out. */
export class LmicDecoder extends CoderBase {
  private pos = 0;
  private padded = 0;
  private readonly input = (): number => {
    if (this.pos < this.bits.length) return this.bits[this.pos++]!;
    if (this.padded >= PRECISION - 1) throw new FormatError('lmic coder: read past the end of the padded stream (corrupt or truncated)');
    this.padded++;
    return 1;
  };

  constructor(
    alphabetSize: number,
    private readonly bits: Uint8Array,
  ) {
    super(alphabetSize);
    for (let i = 0; i < PRECISION; i++) this.code = this.code * 2 + this.input();
  }

  decode(pdf: Float32Array): number {
    return this.process(pdf, undefined, this.input);
  }
}

/** LMIC's bits_to_bytes: left-pads with zeros to a multiple of 8. */
export function bitsToBytes(bits: Uint8Array): { bytes: Uint8Array; numPaddedBits: number } {
  const numPaddedBits = (8 - (bits.length % 8)) % 8;
  const total = bits.length + numPaddedBits;
  const bytes = new Uint8Array(total / 8);
  for (let i = 0; i < bits.length; i++) {
    const j = i + numPaddedBits;
    if (bits[i]) bytes[j >> 3]! |= 0x80 >> (j & 7);
  }
  return { bytes, numPaddedBits };
}

/** LMIC's bytes_to_bits: drops `numPaddedBits` from the front. */
export function bytesToBits(bytes: Uint8Array, numPaddedBits = 0): Uint8Array {
  const bits = new Uint8Array(bytes.length * 8 - numPaddedBits);
  for (let i = 0; i < bits.length; i++) {
    const j = i + numPaddedBits;
    bits[i] = (bytes[j >> 3]! >> (7 - (j & 7))) & 1;
  }
  return bits;
}

/**
 * Codes a sequence the way LMIC's language_model.compress does: normalise each raw pdf, encode, terminate,
 * pack. `pdfs` is [n, alphabet] row-major.
 */
export function lmicCompress(
  pdfs: Float32Array,
  symbols: ArrayLike<number>,
  alphabetSize = 256,
): { bytes: Uint8Array; numPaddedBits: number; numBits: number } {
  const enc = new LmicEncoder(alphabetSize);
  for (let i = 0; i < symbols.length; i++) {
    enc.encode(normalizePdfForArithmeticCoding(pdfs.subarray(i * alphabetSize, (i + 1) * alphabetSize)), symbols[i]!);
  }
  const bits = enc.terminate();
  return { ...bitsToBytes(bits), numBits: bits.length };
}

/** The inverse of lmicCompress, given the same raw pdfs (LMIC's decoder needs them symbol by symbol). */
export function lmicDecompress(
  bytes: Uint8Array,
  numPaddedBits: number,
  pdfs: Float32Array,
  length: number,
  alphabetSize = 256,
): Uint8Array | Uint16Array {
  const dec = new LmicDecoder(alphabetSize, bytesToBits(bytes, numPaddedBits));
  const out = alphabetSize <= 256 ? new Uint8Array(length) : new Uint16Array(length);
  for (let i = 0; i < length; i++)
    out[i] = dec.decode(normalizePdfForArithmeticCoding(pdfs.subarray(i * alphabetSize, (i + 1) * alphabetSize)));
  return out;
}
