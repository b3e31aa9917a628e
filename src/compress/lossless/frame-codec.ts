/**
 * Codes interleaved integer PCM frames losslessly: per sample, the channel's predictor guesses the value,
 * the residual model codes the difference, and both learn from the true value. Channels of a frame are
 * coded in order, so each channel after the first predicts from its partner's current sample too.
 * One function serves encoder and decoder through BitCoder, so the two cannot drift apart.
 */
import { BitDecoder, BitEncoder, type BitCoder } from './binary-coder.js';
import { ChannelPredictor, History } from './channel-predictor.js';
import type { LevelSettings } from './levels.js';
import { ResidualModel } from './residual-model.js';

export interface PcmBlock {
  /** Interleaved samples, frames * channels. */
  samples: Int32Array;
  channels: number;
  bitsPerSample: number;
}

/**
 * Trailing zero bits common to every sample of each channel ("wasted bits", as FLAC calls them):
 * 8-bit audio stored in 16-bit words, or 16-bit audio in 24-bit words, is coded at its real width.
 */
export function wastedBits(samples: Int32Array, channels: number): number[] {
  const or = new Array<number>(channels).fill(0);
  for (let i = 0; i < samples.length; i++) or[i % channels] |= samples[i]!;
  return or.map((v) => (v === 0 ? 0 : 31 - Math.clz32(v & -v)));
}

/** Codes samples >> shift[c] for each channel c (the caller stores the shifts). */
function run(io: BitCoder, block: PcmBlock, shifts: readonly number[], level: LevelSettings, lambda: number, decoding: boolean): void {
  const { samples, channels, bitsPerSample } = block;
  const frames = samples.length / channels;
  const histLen = Math.max(level.olsOwn, level.olsCross);
  const histories = Array.from({ length: channels }, () => new History(histLen));
  const partnerOf = (c: number): number | undefined => (channels === 1 ? undefined : c === 0 ? 1 : c - 1);
  const predictors = Array.from({ length: channels }, (_, c) => new ChannelPredictor(level, lambda, partnerOf(c) !== undefined));
  const models = Array.from({ length: channels }, () => new ResidualModel());
  for (let t = 0; t < frames; t++) {
    for (let c = 0; c < channels; c++) {
      const shift = shifts[c]!;
      const lo = -(2 ** (bitsPerSample - 1 - shift));
      const hi = 2 ** (bitsPerSample - 1 - shift) - 1;
      const pred = predictors[c]!;
      const partner = partnerOf(c);
      pred.setInputs(histories[c]!, partner === undefined ? undefined : histories[partner]);
      let guess = Math.round(pred.predict());
      if (guess < lo) guess = lo;
      else if (guess > hi) guess = hi;
      const i = t * channels + c;
      const r = models[c]!.code(io, decoding ? 0 : (samples[i]! >> shift) - guess);
      const value = guess + r;
      if (decoding) samples[i] = value * 2 ** shift;
      pred.update(value);
      histories[c]!.push(value);
    }
  }
}

export function encodePcm(block: PcmBlock, shifts: readonly number[], level: LevelSettings, lambda: number): Uint8Array {
  const enc = new BitEncoder(Math.max(4096, block.samples.length));
  run(enc, block, shifts, level, lambda, false);
  return enc.finish();
}

/** Decodes `frames` frames into a new block; `name` is for messages. */
export function decodePcm(payload: Uint8Array, frames: number, channels: number, bitsPerSample: number, shifts: readonly number[], level: LevelSettings, lambda: number, name = 'archive'): Int32Array {
  const samples = new Int32Array(frames * channels);
  run(new BitDecoder(payload, 0, payload.length, name), { samples, channels, bitsPerSample }, shifts, level, lambda, true);
  return samples;
}
