/**
 * Coding one chunk of tokens with an IncrementalPredictor and the range coder. Each chunk starts from
 * reset(), so chunks are independent: any worker can code any chunk and the bytes never depend on how
 * many workers there are.
 *
 * Token modes (how samples become the LM's tokens):
 * - 'u8': 8-bit unsigned samples (or raw bytes) are the tokens of an 8-bit model.
 * - 'hi8lo': 16-bit samples for an 8-bit model, losslessly. The high byte, as LMIC's audioop
 *   lin2lin(2 -> 1) + bias(128) computes it, is coded with the LM, interleaved with the low byte coded by
 *   a small predictive model (see LowBytes). The LM sees exactly the tokens it was trained on.
 * - 'u16': 16-bit samples are the tokens of a 16-bit (65,536-symbol) model: token = sample + 32768.
 */
import type { IncrementalPredictor } from '../model/api.js';
import { FormatError, MismatchError } from '../util/errors.js';
import { LmicEncoder, normalizePdfForArithmeticCoding } from './lmic-coder.js';
import { findSymbol, LM_TOTAL_BITS, quantizeProbs, RangeDecoder, RangeEncoder } from './range-coder.js';

export type TokenMode = 'u8' | 'hi8lo' | 'u16';

export const TOKEN_MODES: readonly TokenMode[] = ['u8', 'hi8lo', 'u16'];

/** The vocabulary size a mode needs from the model. */
export function vocabForMode(mode: TokenMode): number {
  return mode === 'u16' ? 65536 : 256;
}

export interface ChunkStats {
  /** -sum log2 p(token) under the model's float probabilities (the ideal code length of the LM tokens). */
  idealBits: number;
  /**
   * When set (a number to add to), the same tokens are also coded with LMIC's arithmetic coder and the
   * length of its output in bytes (bits_to_bytes: whole bytes) is added: the figure compress.py reports.
   */
  lmicBytes?: number;
}

const TOTAL = 2 ** LM_TOTAL_BITS;
const LN2 = Math.LN2;

function checkDist(p: Float32Array, vocab: number): Float32Array {
  if (p.length !== vocab) throw new MismatchError(`the model predicts ${p.length} symbols, this archive needs ${vocab}`);
  return p;
}

/**
 * Low bytes of 16-bit samples, given the high byte the LM just coded. The previous sample predicts the
 * whole value, and the low byte's distribution is a discretised Cauchy-like bump around the prediction,
 * freq(j) = floor(2^16 s^2 / (s + |256 h + j - prediction|)^2) + 1, whose scale s follows the recent
 * absolute prediction errors (s <- (3 s + |error| + 2) >> 2). Integer arithmetic only, every value below
 * 2^53. On FSDD this costs 7.3-7.5 bits per low byte, against 8.0 with adaptive order-0 tables for quiet
 * samples and raw bits otherwise, and 8.3 with adaptive tables throughout (second-order and NLMS
 * predictors of order 4 to 32 gained under 0.1 bit more).
 */
class LowBytes {
  private prev = 0;
  private scale = 64;
  private readonly freq = new Float64Array(256);
  private total = 0;

  private table(hiToken: number): void {
    const s = this.scale;
    const num = 65536 * s * s;
    const base = (hiToken - 128) * 256 - this.prev;
    let total = 0;
    for (let j = 0; j < 256; j++) {
      const d = Math.abs(base + j) + s;
      const den = d * d;
      let q = Math.floor(num / den);
      if (q * den > num) q--; // a quotient rounded up to the next integer
      total += this.freq[j] = q + 1;
    }
    this.total = total;
  }

  private update(hiToken: number, low: number): void {
    const x = (hiToken - 128) * 256 + low;
    this.scale = Math.max(1, (3 * this.scale + Math.abs(x - this.prev) + 2) >> 2);
    this.prev = x;
  }

  encode(enc: RangeEncoder, hiToken: number, low: number): void {
    this.table(hiToken);
    let c = 0;
    for (let j = 0; j < low; j++) c += this.freq[j]!;
    enc.encode(c, this.freq[low]!, this.total);
    this.update(hiToken, low);
  }

  decode(dec: RangeDecoder, hiToken: number): number {
    this.table(hiToken);
    const t = dec.target(this.total);
    let c = 0;
    let j = 0;
    while (j < 255 && c + this.freq[j]! <= t) c += this.freq[j++]!;
    dec.decode(c, this.freq[j]!);
    this.update(hiToken, j);
    return j;
  }
}

/**
 * Codes `tokens` (and for 'hi8lo' the matching low bytes) as one range-coded stream. Adds the ideal code
 * length of the LM tokens to `stats` when given.
 */
export function encodeChunk(
  predictor: IncrementalPredictor,
  mode: TokenMode,
  tokens: Uint8Array | Uint16Array,
  low?: Uint8Array,
  stats?: ChunkStats,
): Uint8Array {
  const vocab = vocabForMode(mode);
  if (mode === 'hi8lo' && (!low || low.length !== tokens.length)) throw new FormatError('hi8lo chunk needs one low byte per token');
  const enc = new RangeEncoder(tokens.length + 64);
  const cum = new Uint32Array(vocab + 1);
  const lows = mode === 'hi8lo' ? new LowBytes() : undefined;
  const lmic = stats?.lmicBytes !== undefined ? new LmicEncoder(vocab) : undefined;
  let p = checkDist(predictor.reset(), vocab);
  let ideal = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    quantizeProbs(p, cum, LM_TOTAL_BITS);
    enc.encode(cum[t]!, cum[t + 1]! - cum[t]!, TOTAL);
    if (stats) ideal -= Math.log(p[t]!) / LN2;
    if (lmic) lmic.encode(normalizePdfForArithmeticCoding(p), t);
    if (lows) lows.encode(enc, t, low![i]!);
    if (i + 1 < tokens.length) p = checkDist(predictor.next(t), vocab);
  }
  if (stats) stats.idealBits += ideal;
  if (lmic) stats!.lmicBytes! += Math.ceil(lmic.terminate().length / 8);
  return enc.finish();
}

/** Inverse of encodeChunk: `length` tokens (and low bytes for 'hi8lo'). */
export function decodeChunk(
  predictor: IncrementalPredictor,
  mode: TokenMode,
  data: Uint8Array,
  length: number,
): { tokens: Uint8Array | Uint16Array; low?: Uint8Array } {
  const vocab = vocabForMode(mode);
  const dec = new RangeDecoder(data);
  const cum = new Uint32Array(vocab + 1);
  const tokens = vocab > 256 ? new Uint16Array(length) : new Uint8Array(length);
  const low = mode === 'hi8lo' ? new Uint8Array(length) : undefined;
  const lows = low ? new LowBytes() : undefined;
  let p = checkDist(predictor.reset(), vocab);
  for (let i = 0; i < length; i++) {
    quantizeProbs(p, cum, LM_TOTAL_BITS);
    const target = dec.target(TOTAL);
    const t = findSymbol(cum, target);
    dec.decode(cum[t]!, cum[t + 1]! - cum[t]!);
    tokens[i] = t;
    if (lows) low![i] = lows.decode(dec, t);
    if (i + 1 < length) p = checkDist(predictor.next(t), vocab);
  }
  // No check on how far past the end the decoder read: the encoder trims every trailing zero byte, and
  // an arbitrary number of them can be legitimate. Damage is caught by the archive's CRCs and the
  // SHA-256 of the restored file.
  return low ? { tokens, low } : { tokens };
}
