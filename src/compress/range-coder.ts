/**
 * The production entropy coder of .wlm archives: a byte-oriented range coder (LZMA's carry-cache
 * scheme) with a 48-bit window held in JavaScript doubles, plus the deterministic mapping from the
 * engine's float32 probabilities to integer frequency tables.
 *
 * Why 48 bits: every integer below 2^53 is exact in a double, so low (48 bits plus a carry bit), range
 * (< 2^48) and the products r * cum (< 2^48) are exact without BigInt. Renormalising when range falls
 * below 2^40 keeps r = range / total >= 2^16 for totals up to 2^24, so the coder's truncation loss is
 * below 2^-16 bits per symbol, and a 2^24 total leaves room for 65,536-symbol vocabularies.
 *
 * Determinism: the frequency table is built with IEEE double multiplies, divisions and floors in a fixed
 * order (each exactly rounded), never Math.exp/log, so encoder and decoder compute identical tables on
 * any machine from identical float32 probabilities.
 */
import { ConfigError, FormatError } from '../util/errors.js';

const TOP = 2 ** 48;
const BOT = 2 ** 40;
const BYTE_SHIFT = 2 ** 40; // weight of the window's top byte
const FF_LIMIT = 0xff * 2 ** 40;

/** Default total of LM frequency tables (2^24). */
export const LM_TOTAL_BITS = 24;

export class RangeEncoder {
  private low = 0;
  private range = TOP;
  private cache = 0;
  private cacheSize = 1;
  private first = true;
  private buf: Uint8Array;
  private pos = 0;

  constructor(initialCapacity = 1024) {
    this.buf = new Uint8Array(initialCapacity);
  }

  private put(b: number): void {
    // The very first byte is the initial cache, which is always 0 (the interval never reaches 1.0).
    if (this.first) {
      this.first = false;
      return;
    }
    if (this.pos === this.buf.length) {
      const nb = new Uint8Array(this.buf.length * 2);
      nb.set(this.buf);
      this.buf = nb;
    }
    this.buf[this.pos++] = b;
  }

  private shiftLow(): void {
    const low = this.low;
    if (low < FF_LIMIT || low >= TOP) {
      const carry = low >= TOP ? 1 : 0;
      let temp = this.cache;
      do {
        this.put((temp + carry) & 0xff);
        temp = 0xff;
      } while (--this.cacheSize !== 0);
      this.cache = Math.floor((low % TOP) / BYTE_SHIFT);
    }
    this.cacheSize++;
    this.low = (low % BYTE_SHIFT) * 256;
  }

  /** Codes the interval [cumLow, cumLow + freq) of `total` (any positive integer up to 2^24). */
  encode(cumLow: number, freq: number, total: number): void {
    let r = Math.floor(this.range / total);
    // Division of large doubles may round up to the next integer; correct so r * total <= range.
    if (r * total > this.range) r--;
    this.low += r * cumLow;
    this.range = r * freq;
    while (this.range < BOT) {
      this.range *= 256;
      this.shiftLow();
    }
  }

  /** Codes `nbits` (<= 16) raw bits of `value`. */
  encodeBits(value: number, nbits: number): void {
    this.encode(value, 1, 2 ** nbits);
  }

  /** Ends the stream: picks the value in [low, low + range) with most trailing zero bytes, flushes, trims zeros. */
  finish(): Uint8Array {
    this.low = Math.ceil(this.low / BYTE_SHIFT) * BYTE_SHIFT;
    for (let i = 0; i < 7; i++) this.shiftLow();
    // The decoder reads zeros past the end, so trailing zero bytes carry no information.
    let n = this.pos;
    while (n > 0 && this.buf[n - 1] === 0) n--;
    return this.buf.slice(0, n);
  }
}

export class RangeDecoder {
  private code = 0;
  private range = TOP;
  private pos = 0;
  private r = 0;

  constructor(private readonly data: Uint8Array) {
    for (let i = 0; i < 6; i++) this.code = this.code * 256 + this.next();
  }

  private next(): number {
    if (this.pos < this.data.length) return this.data[this.pos++]!;
    this.pos++;
    return 0;
  }

  /** The cumulative frequency the next symbol falls at; call `decode` with its interval next. */
  target(total: number): number {
    let r = Math.floor(this.range / total);
    if (r * total > this.range) r--;
    this.r = r;
    let f = Math.floor(this.code / r);
    // As in encode: a rounded-up quotient would pick the next symbol.
    if (f * r > this.code) f--;
    if (f >= total) {
      if (this.code >= this.range) throw new FormatError('range decoder: code word outside the interval (corrupt stream)');
      return total - 1;
    }
    return f;
  }

  /** Consumes the interval [cumLow, cumLow + freq) found from `target`. */
  decode(cumLow: number, freq: number): void {
    this.code -= this.r * cumLow;
    this.range = this.r * freq;
    if (this.code < 0 || this.code >= this.range)
      throw new FormatError('range decoder: code word outside the symbol interval (corrupt stream)');
    while (this.range < BOT) {
      this.range *= 256;
      this.code = this.code * 256 + this.next();
    }
  }

  decodeBits(nbits: number): number {
    const v = this.target(2 ** nbits);
    this.decode(v, 1);
    return v;
  }

  /** Bytes read beyond the stream's end (they read as zeros; the encoder trims trailing zeros, so some are expected). */
  get overrun(): number {
    return Math.max(0, this.pos - this.data.length);
  }
}

/**
 * Integer frequencies summing exactly to 2^totalBits with every symbol >= 1, from probabilities that
 * sum to about 1. freq[i] = 1 + floor(p[i] * (T - V) / S) (S = sum of valid p), the rounding remainder goes
 * to the most probable symbol (lowest index on ties). NaN, negative or infinite probabilities count as 0;
 * if nothing valid is left the table is uniform. Writes cumulative frequencies into `cum` (length V + 1).
 */
export function quantizeProbs(probs: Float32Array, cum: Uint32Array, totalBits = LM_TOTAL_BITS): void {
  const v = probs.length;
  const total = 2 ** totalBits;
  if (cum.length !== v + 1) throw new ConfigError(`quantizeProbs: cumulative table has ${cum.length} entries, needs ${v + 1}`);
  if (v * 2 > total) throw new ConfigError(`quantizeProbs: ${v} symbols need a total above 2^${totalBits}`);
  let s = 0;
  let best = 0;
  let bestP = -1;
  for (let i = 0; i < v; i++) {
    const p = probs[i]!;
    if (p > 0 && p < Infinity) {
      s += p;
      if (p > bestP) {
        bestP = p;
        best = i;
      }
    }
  }
  const spread = total - v;
  const scale = s > 0 && s < Infinity ? spread / s : 0;
  // First pass: frequencies (stored shifted by one slot), second pass: the remainder, then prefix sums.
  let sum = 0;
  for (let i = 0; i < v; i++) {
    const p = probs[i]!;
    const f = 1 + (p > 0 && p < Infinity ? Math.floor(p * scale) : 0);
    cum[i + 1] = f;
    sum += f;
  }
  if (scale === 0) {
    // Uniform fallback: spread the remainder evenly, deterministic.
    const each = Math.floor(spread / v);
    sum = 0;
    for (let i = 0; i < v; i++) sum += cum[i + 1] = 1 + each;
    best = 0;
  }
  cum[best + 1] = cum[best + 1]! + (total - sum);
  cum[0] = 0;
  for (let i = 1; i <= v; i++) cum[i] = cum[i]! + cum[i - 1]!;
}

/** Index s with cum[s] <= target < cum[s + 1] (binary search). */
export function findSymbol(cum: Uint32Array, target: number): number {
  let lo = 0;
  let hi = cum.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid]! <= target) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * An adaptive order-0 frequency model (counts start at 1, +24 per symbol, halved above 2^16). Used for
 * the low byte of 16-bit samples and for anything coded without an LM. Encoder and decoder evolve it
 * identically.
 */
export class AdaptiveModel {
  private readonly freq: Uint32Array;
  private total: number;
  constructor(
    readonly size: number,
    private readonly increment = 24,
    private readonly limit = 1 << 16,
  ) {
    this.freq = new Uint32Array(size).fill(1);
    this.total = size;
  }

  private update(s: number): void {
    this.freq[s]! += this.increment;
    this.total += this.increment;
    if (this.total > this.limit) {
      let t = 0;
      for (let i = 0; i < this.size; i++) t += this.freq[i] = (this.freq[i]! + 1) >>> 1;
      this.total = t;
    }
  }

  encode(enc: RangeEncoder, s: number): void {
    let c = 0;
    for (let i = 0; i < s; i++) c += this.freq[i]!;
    enc.encode(c, this.freq[s]!, this.total);
    this.update(s);
  }

  decode(dec: RangeDecoder): number {
    const t = dec.target(this.total);
    let c = 0;
    let s = 0;
    while (c + this.freq[s]! <= t) c += this.freq[s++]!;
    dec.decode(c, this.freq[s]!);
    this.update(s);
    return s;
  }
}
