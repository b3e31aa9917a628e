/**
 * Coding one chunk of tokens with an IncrementalPredictor and the range coder. Each chunk starts from
 * reset(), so chunks are independent: any worker can code any chunk and the bytes never depend on how
 * many workers there are.
 *
 * Token modes (how samples become the LM's tokens):
 * - 'u8': 8-bit unsigned samples (or raw bytes) are the tokens of an 8-bit model.
 * - 'hi8lo': 16-bit samples for an 8-bit model, losslessly. The high byte, as LMIC's audioop
 *   lin2lin(2 -> 1) + bias(128) computes it, is coded with the LM, interleaved with the low byte coded by
 *   an adaptive order-0 model chosen by the high byte (quiet samples, whose high byte is 0x00 or 0xff,
 *   get their own tables because their low bytes cluster near 0 and 255; louder samples share one).
 *   The LM sees exactly the tokens it was trained on, and the low byte, near-uniform noise in speech,
 *   costs close to its 8 bits without a second model.
 * - 'u16': 16-bit samples are the tokens of a 16-bit (65,536-symbol) model: token = sample + 32768.
 */
import type { IncrementalPredictor } from '../model/api.js';
import { FormatError, MismatchError } from '../util/errors.js';
import { AdaptiveModel, findSymbol, LM_TOTAL_BITS, quantizeProbs, RangeDecoder, RangeEncoder } from './range-coder.js';

export type TokenMode = 'u8' | 'hi8lo' | 'u16';

export const TOKEN_MODES: readonly TokenMode[] = ['u8', 'hi8lo', 'u16'];

/** The vocabulary size a mode needs from the model. */
export function vocabForMode(mode: TokenMode): number {
  return mode === 'u16' ? 65536 : 256;
}

export interface ChunkStats {
  /** -sum log2 p(token) under the model's float probabilities (the ideal code length of the LM tokens). */
  idealBits: number;
}

const TOTAL = 2 ** LM_TOTAL_BITS;
const LN2 = Math.LN2;

function checkDist(p: Float32Array, vocab: number): Float32Array {
  if (p.length !== vocab) throw new MismatchError(`the model predicts ${p.length} symbols, this archive needs ${vocab}`);
  return p;
}

class LowByteModels {
  private readonly quietNeg = new AdaptiveModel(256);
  private readonly quietPos = new AdaptiveModel(256);
  private readonly loud = new AdaptiveModel(256);
  pick(hiToken: number): AdaptiveModel {
    return hiToken === 127 ? this.quietNeg : hiToken === 128 ? this.quietPos : this.loud;
  }
}

/**
 * Codes `tokens` (and for 'hi8lo' the matching low bytes) as one range-coded stream. Adds the ideal code
 * length of the LM tokens to `stats` when given.
 */
export function encodeChunk(predictor: IncrementalPredictor, mode: TokenMode, tokens: Uint8Array | Uint16Array, low?: Uint8Array, stats?: ChunkStats): Uint8Array {
  const vocab = vocabForMode(mode);
  if (mode === 'hi8lo' && (!low || low.length !== tokens.length)) throw new FormatError('hi8lo chunk needs one low byte per token');
  const enc = new RangeEncoder(tokens.length + 64);
  const cum = new Uint32Array(vocab + 1);
  const lows = mode === 'hi8lo' ? new LowByteModels() : undefined;
  let p = checkDist(predictor.reset(), vocab);
  let ideal = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    quantizeProbs(p, cum, LM_TOTAL_BITS);
    enc.encode(cum[t]!, cum[t + 1]! - cum[t]!, TOTAL);
    if (stats) ideal -= Math.log(p[t]!) / LN2;
    if (lows) lows.pick(t).encode(enc, low![i]!);
    if (i + 1 < tokens.length) p = checkDist(predictor.next(t), vocab);
  }
  if (stats) stats.idealBits += ideal;
  return enc.finish();
}

/** Inverse of encodeChunk: `length` tokens (and low bytes for 'hi8lo'). */
export function decodeChunk(predictor: IncrementalPredictor, mode: TokenMode, data: Uint8Array, length: number): { tokens: Uint8Array | Uint16Array; low?: Uint8Array } {
  const vocab = vocabForMode(mode);
  const dec = new RangeDecoder(data);
  const cum = new Uint32Array(vocab + 1);
  const tokens = vocab > 256 ? new Uint16Array(length) : new Uint8Array(length);
  const low = mode === 'hi8lo' ? new Uint8Array(length) : undefined;
  const lows = low ? new LowByteModels() : undefined;
  let p = checkDist(predictor.reset(), vocab);
  for (let i = 0; i < length; i++) {
    quantizeProbs(p, cum, LM_TOTAL_BITS);
    const target = dec.target(TOTAL);
    const t = findSymbol(cum, target);
    dec.decode(cum[t]!, cum[t + 1]! - cum[t]!);
    tokens[i] = t;
    if (lows) low![i] = lows.pick(t).decode(dec);
    if (i + 1 < length) p = checkDist(predictor.next(t), vocab);
  }
  // The encoder trims trailing zeros, so at most a few zero bytes are read past the end; many more means
  // the stream was cut short.
  if (dec.overrun > 8) throw new FormatError(`chunk stream ended ${dec.overrun} bytes early (truncated or corrupt)`);
  return low ? { tokens, low } : { tokens };
}
